import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // import.meta.url in the CommonJS build (nodes/driver.ts resolves the adapter's own `pg`).
  shims: true,
});

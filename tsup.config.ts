import { defineConfig } from "tsup";

export default defineConfig({
  // cli: `npx prisma-split doctor` (package.json "bin"); its #! line is kept by esbuild.
  entry: { index: "src/index.ts", cli: "src/cli/index.ts" },
  format: ["esm", "cjs"],
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  clean: true,
  target: "node20",
  // import.meta.url in the CommonJS build (nodes/driver.ts resolves the adapter's own `pg`).
  shims: true,
});

import { defineConfig } from "tsup";

export default defineConfig({
  // "dev-cluster" is the `prisma-split/dev-cluster` entry point: the development/test cluster helper.
  entry: { index: "src/index.ts", "dev-cluster": "src/dev-cluster/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // import.meta.url in the CommonJS build (nodes/driver.ts resolves the adapter's own `pg`).
  shims: true,
});

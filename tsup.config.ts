import { defineConfig } from "tsup";

export default defineConfig({
  // cli: `npx prisma-split doctor` (package.json "bin"); its #! line is kept by esbuild.
  // "dev-cluster" is the `prisma-split/dev-cluster` entry point: the development/test cluster helper.
  entry: { index: "src/index.ts", cli: "src/cli/index.ts", "dev-cluster": "src/dev-cluster/index.ts" },
  format: ["esm", "cjs"],
  dts: { entry: { index: "src/index.ts", "dev-cluster": "src/dev-cluster/index.ts" } },
  // No source maps in the package: they point at src/, which is not shipped, and were over half its size.
  sourcemap: false,
  clean: true,
  target: "node20",
  // import.meta.url in the CommonJS build (nodes/driver.ts resolves the adapter's own `pg`).
  shims: true,
});

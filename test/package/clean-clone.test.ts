import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cleanCheckout, packPackage } from "./pack.ts";

/**
 * `npm pack` (and so `npm publish`) from a fresh clone: no dist/ exists until prepack builds it.
 * Before prepack existed, this tarball held LICENSE, README.md and package.json only.
 */
const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const slow = 180_000;
let root: string | undefined;

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true, maxRetries: 5 });
});

describe("npm pack from a clean clone", () => {
  it(
    "builds dist/ in prepack and ships the library, its types, the CLI and nothing else",
    async () => {
      root = await mkdtemp(path.join(os.tmpdir(), "prisma-split-clone-"));
      const clone = await cleanCheckout(packageDir, path.join(root, "clone"));
      const tarball = await packPackage(clone, root);
      console.log(
        `clean clone → ${path.basename(tarball.file)} (${tarball.ms} ms):\n  ${tarball.entries.join("\n  ")}`,
      );
      // esbuild's shared chunks carry a content hash in their names.
      const chunks = tarball.entries.filter((entry) => /^dist\/chunk-[\w-]+\.js$/.test(entry));
      expect(tarball.entries.filter((entry) => !chunks.includes(entry))).toEqual([
        "LICENSE",
        "README.md",
        "dist/cli.cjs",
        "dist/cli.js",
        "dist/dev-cluster.cjs",
        "dist/dev-cluster.d.cts",
        "dist/dev-cluster.d.ts",
        "dist/dev-cluster.js",
        "dist/index.cjs",
        "dist/index.d.cts",
        "dist/index.d.ts",
        "dist/index.js",
        "package.json",
      ]);
    },
    slow,
  );
});

import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cleanCheckout, type PackedTarball, packPackage } from "./pack.ts";
import { runCommandOk } from "./run-command.ts";

/**
 * `npm pack` (and so `npm publish`) from a fresh clone: no dist/ exists until prepack builds it.
 * Before prepack existed, this tarball held LICENSE, README.md and package.json only. Then the
 * README's Install section, line by line: that tarball installed into a fresh app.
 */
const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const slow = 180_000;
let root: string | undefined;
let tarball: PackedTarball | undefined;
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true, maxRetries: 5 });
});

describe("npm pack from a clean clone", () => {
  it(
    "builds dist/ in prepack and ships the library, its types, the CLI and nothing else",
    async () => {
      root = await mkdtemp(path.join(os.tmpdir(), "prisma-split-clone-"));
      const clone = await cleanCheckout(packageDir, path.join(root, "clone"));
      tarball = await packPackage(clone, root);
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

  it(
    "installs into a fresh app as the README says (`npm install <tarball>`): the CLI runs, the package loads",
    async () => {
      if (tarball === undefined || root === undefined) throw new Error("the tarball was not packed");
      expect(path.basename(tarball.file)).toBe(`prisma-split-${version}.tgz`);
      const app = path.join(root, "your-app");
      await mkdir(app);
      await runCommandOk("npm", ["init", "-y"], { cwd: app });
      await runCommandOk("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball.file], {
        cwd: app,
        timeoutMs: slow,
      });
      const cli = await runCommandOk(path.join(app, "node_modules/.bin/prisma-split"), ["--version"], { cwd: app });
      expect(cli.stdout).toBe(`${version}\n`);
      const loaded = await runCommandOk(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          'const m = await import("prisma-split"); console.log(typeof m.createDb, typeof m.drainOnShutdown)',
        ],
        { cwd: app },
      );
      expect(loaded.stdout).toBe("function function\n");
    },
    slow,
  );
});

import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, realpath, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { runCommandOk } from "./run-command.ts";

export interface PackedTarball {
  readonly file: string;
  /** Paths inside the tarball, without tar's `package/` prefix, sorted. */
  readonly entries: string[];
  readonly bytes: number;
  readonly unpackedBytes: number;
  readonly ms: number;
}

/** `npm pack` into `destination`, listing the tarball itself (tar -t), not npm's idea of it. */
export async function packPackage(
  packageDir: string,
  destination: string,
  { ignoreScripts = false }: { ignoreScripts?: boolean } = {},
): Promise<PackedTarball> {
  const args = ["pack", "--json", "--pack-destination", destination, ...(ignoreScripts ? ["--ignore-scripts"] : [])];
  const packed = await runCommandOk("npm", args, { cwd: packageDir, timeoutMs: 180_000 });
  // With scripts on, prepack's own output (tsup) precedes npm's JSON on stdout.
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("\n[") + 1 || 0)) as {
    filename: string;
    unpackedSize: number;
  }[];
  if (!info) throw new Error(`npm pack printed no result:\n${packed.stdout}`);
  const file = path.join(destination, info.filename);
  const listing = await runCommandOk("tar", ["-tzf", file], { cwd: destination });
  const entries = listing.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.replace(/^package\//, ""))
    .sort();
  return { file, entries, bytes: (await stat(file)).size, unpackedBytes: info.unpackedSize, ms: packed.ms };
}

/** Refuses to pack a dist/ older than src/: the test would prove last week's build. */
export async function assertDistIsFresh(packageDir: string): Promise<void> {
  const distEntry = path.join(packageDir, "dist", "index.js");
  const built = await stat(distEntry).catch(() => undefined);
  if (!built) throw new Error(`${distEntry} is missing: run \`npm run build\` first (npm test does).`);
  const srcDir = path.join(packageDir, "src");
  const sources = (await readdir(srcDir, { recursive: true })).filter((file) => file.endsWith(".ts"));
  for (const source of sources) {
    const modified = (await stat(path.join(srcDir, source))).mtimeMs;
    if (modified > built.mtimeMs) throw new Error(`src/${source} is newer than dist/: run \`npm run build\` first.`);
  }
}

/**
 * A clean checkout of the working tree in `destination`: every file git tracks or would track
 * (so uncommitted work is included), nothing it ignores (no dist/, no generated client), and
 * this checkout's node_modules linked in place of `npm install`.
 */
export async function cleanCheckout(packageDir: string, destination: string): Promise<string> {
  const listed = await runCommandOk("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: packageDir,
  });
  const files = listed.stdout.split("\0").filter((file) => file !== "" && existsSync(path.join(packageDir, file)));
  for (const file of files) {
    await mkdir(path.dirname(path.join(destination, file)), { recursive: true });
    await copyFile(path.join(packageDir, file), path.join(destination, file));
  }
  await symlink(await realpath(path.join(packageDir, "node_modules")), path.join(destination, "node_modules"));
  return destination;
}

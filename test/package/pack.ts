import { readdir, stat } from "node:fs/promises";
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
export async function packPackage(packageDir: string, destination: string): Promise<PackedTarball> {
  const packed = await runCommandOk("npm", ["pack", "--json", "--pack-destination", destination], { cwd: packageDir });
  const [info] = JSON.parse(packed.stdout) as { filename: string; unpackedSize: number }[];
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

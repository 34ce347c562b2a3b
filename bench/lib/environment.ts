import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";

/** What a result depends on besides the code: kept in the JSON next to the numbers. */
export function describeEnvironment(): Record<string, unknown> {
  return {
    node: process.version,
    nodeEnv: process.env.NODE_ENV ?? null,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    loadAverageAtStart: os.loadavg().map((load) => Number(load.toFixed(2))),
    versions: {
      "prisma-split": packageVersion("../../package.json"),
      "@prisma/client": dependencyVersion("@prisma/client"),
      "@prisma/adapter-pg": dependencyVersion("@prisma/adapter-pg"),
      "@prisma/extension-read-replicas": dependencyVersion("@prisma/extension-read-replicas"),
      pg: dependencyVersion("pg"),
    },
    git: gitDescription(),
  };
}

const require = createRequire(import.meta.url);

function packageVersion(relativePath: string): string {
  const text = readFileSync(new URL(relativePath, import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

function dependencyVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    // Packages whose "exports" hide package.json: read it next to the resolved entry point.
    const entry = require.resolve(name);
    const root = entry.slice(0, entry.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length);
    return (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }).version;
  }
}

function gitDescription(): string | null {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim();
    return dirty === "" ? commit : `${commit} (uncommitted changes)`;
  } catch {
    return null;
  }
}

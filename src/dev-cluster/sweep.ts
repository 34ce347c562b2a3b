import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { candidateParentDirs, ownerFileName, sweptDirPrefixes } from "./base-dir.js";
import { killPostmastersSync } from "./cleanup.js";
import { isProcessAlive } from "./postmaster.js";
import { stopRecordedProcessesSync } from "./recorded-processes.js";

// A dir without an owner file may be one another process is creating right now.
const ownerlessGraceMs = 60_000;

function isOrphan(baseDir: string): boolean {
  try {
    const ownerPid = Number.parseInt(readFileSync(path.join(baseDir, ownerFileName), "utf8"), 10);
    return !isProcessAlive(ownerPid);
  } catch {
    return Date.now() - statSync(baseDir).mtimeMs > ownerlessGraceMs;
  }
}

function orphanedBaseDirs(): string[] {
  return candidateParentDirs().flatMap((parent) => {
    let names: string[];
    try {
      names = readdirSync(parent).filter((name) => sweptDirPrefixes.some((prefix) => name.startsWith(prefix)));
    } catch {
      return [];
    }
    return names.map((name) => path.join(parent, name)).filter(isOrphan);
  });
}

/**
 * Stops the servers of, and deletes, clusters whose creating process died without cleaning up
 * (SIGKILL, OOM, a killed test worker). Clusters of live processes, e.g. a parallel run, are left alone.
 * Returns the directories it removed.
 */
export function sweepOrphanedClusters(): string[] {
  const removed: string[] = [];
  for (const baseDir of orphanedBaseDirs()) {
    try {
      const dataDirs = readdirSync(baseDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => path.join(baseDir, entry.name));
      stopRecordedProcessesSync(baseDir);
      killPostmastersSync(dataDirs);
      rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
      removed.push(baseDir);
    } catch {
      // Another sweeper got there first, or it is not ours to remove; either way, move on.
    }
  }
  return removed;
}

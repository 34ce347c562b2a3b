import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { candidateParentDirs, ownerFileName, sweptDirPrefixes } from "./base-dir.js";
import { killPostmastersSync } from "./cleanup.js";
import { isProcessAlive } from "./postmaster.js";
import { stopRecordedProcessesSync } from "./recorded-processes.js";

// A dir without an owner file, or with one that holds no PID (written by a version that did not
// write it atomically), may be one another process is creating right now.
const ownerlessGraceMs = 60_000;

function isOrphan(baseDir: string): boolean {
  const ownerPid = readOwnerPid(baseDir);
  if (ownerPid !== undefined) return !isProcessAlive(ownerPid);
  try {
    return Date.now() - statSync(baseDir).mtimeMs > ownerlessGraceMs;
  } catch {
    // Gone already: its owner stopped it, or another sweeper got there first.
    return false;
  }
}

function readOwnerPid(baseDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(baseDir, ownerFileName), "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
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

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

function readPidFile(dataDir: string): number | null {
  let content: string;
  try {
    content = readFileSync(path.join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return null;
  }
  const pid = Number.parseInt(content.split("\n", 1)[0] ?? "", 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** The arguments `pid` was started with, or null when it is gone. */
export function commandLine(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    if (process.platform === "linux") return null;
  }
  try {
    // No /proc (macOS): ps is good enough, our paths contain no spaces.
    return execFileSync("ps", ["-p", String(pid), "-o", "args="], { encoding: "utf8" })
      .trim()
      .split(/\s+/);
  } catch {
    return null;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie still answers signal 0 (we may be its reaper, e.g. as PID 1 in a container).
  return !isZombie(pid);
}

/**
 * PID of the live postmaster serving `dataDir`, or null. The process's command line must name
 * `dataDir`: after a SIGKILL, postmaster.pid is stale and its PID may belong to anything by now.
 */
export function runningPostmasterPid(dataDir: string): number | null {
  const pid = readPidFile(dataDir);
  if (pid === null || !isProcessAlive(pid)) return null;
  const args = commandLine(pid);
  const dataDirIndex = args?.indexOf(dataDir) ?? -1;
  return dataDirIndex > 0 && args?.[dataDirIndex - 1] === "-D" ? pid : null;
}

import { readFileSync } from "node:fs";
import path from "node:path";

/** PID of the postmaster owning `dataDir`, from its postmaster.pid, or null if there is none. */
export function readPostmasterPid(dataDir: string): number | null {
  let content: string;
  try {
    content = readFileSync(path.join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return null;
  }
  const pid = Number.parseInt(content.split("\n", 1)[0] ?? "", 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie still answers signal 0; treat it as dead (happens when we are its reaper, e.g. PID 1).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return process.platform !== "linux";
  }
}

/** Whether a postmaster is running on `dataDir` (a stale postmaster.pid after a SIGKILL counts as not). */
export function isPostmasterRunning(dataDir: string): boolean {
  const pid = readPostmasterPid(dataDir);
  return pid !== null && isProcessAlive(pid);
}

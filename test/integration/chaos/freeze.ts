import { readdirSync, readFileSync } from "node:fs";
import { runningPostmasterPid } from "../../../src/dev-cluster/postmaster.ts";
import type { PgNode } from "../../cluster/index.ts";

/** The postmaster of `node` and every process it forked (backends, walreceiver, checkpointer, ...). */
function serverProcesses(node: PgNode): number[] {
  const dataDir = (node as { dataDir?: string }).dataDir;
  if (dataDir === undefined) throw new Error(`freeze: ${node.name} is not a local server (no data directory)`);
  const postmaster = runningPostmasterPid(dataDir);
  if (postmaster === null) throw new Error(`freeze: ${node.name} is not running`);
  const children = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // Field 4 of /proc/<pid>/stat is the parent's pid (after the command in parentheses).
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

/**
 * Freezes a running server as a hung machine does: SIGSTOP to the postmaster and all its
 * children. TCP stays open (the kernel still accepts connections and buffers bytes); nothing is
 * answered. The returned function thaws it (SIGCONT), children first.
 */
export function freeze(node: PgNode): () => void {
  const pids = serverProcesses(node);
  for (const pid of pids) process.kill(pid, "SIGSTOP");
  let thawed = false;
  return () => {
    if (thawed) return;
    thawed = true;
    for (const pid of [...pids].reverse()) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone meanwhile
      }
    }
  };
}

import { rmSync } from "node:fs";
import { runningPostmasterPid } from "./postmaster.js";
import { stopProcessesSync, stopRecordedProcessesSync } from "./recorded-processes.js";

/** What a cluster must expose so it can be torn down even while the process is exiting. */
export interface TrackedCluster {
  readonly baseDir: string;
  readonly dataDirs: readonly string[];
  stop(): Promise<void>;
}

const liveClusters = new Set<TrackedCluster>();
let handlersInstalled = false;

export function trackCluster(cluster: TrackedCluster): void {
  installExitHandlers();
  liveClusters.add(cluster);
}

export function untrackCluster(cluster: TrackedCluster): void {
  liveClusters.delete(cluster);
}

export function trackedClusters(): TrackedCluster[] {
  return [...liveClusters];
}

/**
 * Synchronous last resort for 'exit' handlers, where no promise will ever settle: SIGQUIT is
 * PostgreSQL's immediate shutdown (the postmaster takes its backends down with it); SIGKILL if
 * that does not work in time.
 */
export function killPostmastersSync(dataDirs: readonly string[]): void {
  const pids = dataDirs.map(runningPostmasterPid).filter((pid) => pid !== null);
  stopProcessesSync(pids, "SIGQUIT", 3000);
}

/** Stops every process of `cluster` and deletes its directory, now; also from 'exit' handlers. */
export function destroyClusterSync(cluster: TrackedCluster): void {
  // First what would restart a postmaster (a Patroni), see recorded-processes.ts.
  stopRecordedProcessesSync(cluster.baseDir);
  killPostmastersSync(cluster.dataDirs);
  rmSync(cluster.baseDir, { recursive: true, force: true, maxRetries: 5 });
  liveClusters.delete(cluster);
}

function destroyAllSync(): void {
  for (const cluster of liveClusters) {
    try {
      destroyClusterSync(cluster);
    } catch {
      // Keep going: one stubborn directory must not leave the other clusters' servers running.
    }
  }
}

function onTerminationSignal(signalName: NodeJS.Signals): void {
  // Someone else handles this signal (and presumably exits, which runs our 'exit' handler).
  if (process.listenerCount(signalName) > 1) return;
  destroyAllSync();
  process.removeListener("SIGINT", onTerminationSignal);
  process.removeListener("SIGTERM", onTerminationSignal);
  // Re-raise so the process dies the way it would have without our listener.
  process.kill(process.pid, signalName);
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", destroyAllSync);
  process.on("SIGINT", onTerminationSignal);
  process.on("SIGTERM", onTerminationSignal);
}

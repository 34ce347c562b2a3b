import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { commandLine, isProcessAlive } from "./postmaster.js";

/**
 * Processes of a cluster other than its postmasters (a Patroni that would restart them, the etcd
 * it needs, an HAProxy in front), recorded as `<baseDir>/pids/<stage>-<name>.pid` so that the
 * cluster's own teardown and a later sweep stop them by pid, never by name. Stages stop in
 * ascending order, every process of one stage together.
 */
const pidDirName = "pids";

export interface RecordedProcess {
  readonly name: string;
  readonly stage: number;
  readonly pid: number;
  /** A path only this process has on its command line (its configuration or data directory). */
  readonly identity: string;
}

/**
 * Records `pid` under `name` (replacing an earlier record of that name). `identity` must appear as
 * one argument of its command line: after a crash a stale pid may belong to anything by now.
 *
 * @example
 * recordProcess(baseDir, { name: "etcd", stage: 90, pid: child.pid, identity: etcdDataDir });
 */
export function recordProcess(baseDir: string, recorded: RecordedProcess): void {
  const dir = path.join(baseDir, pidDirName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${recorded.stage}-${recorded.name}.pid`), `${recorded.pid}\n${recorded.identity}\n`);
}

/** The processes recorded in `baseDir` that are still alive and still the process recorded. */
export function liveRecordedProcesses(baseDir: string): RecordedProcess[] {
  let files: string[];
  try {
    files = readdirSync(path.join(baseDir, pidDirName)).filter((file) => file.endsWith(".pid"));
  } catch {
    return [];
  }
  return files.flatMap((file) => {
    const match = /^(\d+)-(.+)\.pid$/.exec(file);
    if (!match) return [];
    const [pidLine, identity = ""] = readFileSync(path.join(baseDir, pidDirName, file), "utf8").split("\n");
    const pid = Number.parseInt(pidLine ?? "", 10);
    if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return [];
    if (!commandLine(pid)?.includes(identity)) return [];
    return [{ name: match[2] as string, stage: Number(match[1]), pid, identity }];
  });
}

/**
 * Stops every live recorded process of `baseDir`, stage by stage: SIGTERM, then SIGKILL for what
 * is still alive after `timeoutMs`. Synchronous, so 'exit' handlers can use it.
 */
export function stopRecordedProcessesSync(baseDir: string, timeoutMs = 30_000): void {
  const live = liveRecordedProcesses(baseDir);
  const stages = [...new Set(live.map((recorded) => recorded.stage))].sort((a, b) => a - b);
  for (const stage of stages) {
    const pids = live.filter((recorded) => recorded.stage === stage).map((recorded) => recorded.pid);
    stopProcessesSync(pids, "SIGTERM", timeoutMs);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Sends `signal` to every pid, waits up to `timeoutMs` for them all, then SIGKILLs what is left. */
export function stopProcessesSync(pids: readonly number[], signal: NodeJS.Signals, timeoutMs: number): void {
  for (const pid of pids) send(pid, signal);
  const deadline = Date.now() + timeoutMs;
  for (const pid of pids) {
    while (isProcessAlive(pid) && Date.now() < deadline) sleepSync(10);
    if (isProcessAlive(pid)) send(pid, "SIGKILL");
  }
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

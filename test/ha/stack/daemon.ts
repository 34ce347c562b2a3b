import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "../../../src/dev-cluster/postmaster.ts";
import { recordProcess } from "../../../src/dev-cluster/recorded-processes.ts";
import { serverUser } from "../../../src/dev-cluster/server-user.ts";

export interface DaemonSpec {
  /** Unique in the stack: the pid file's name. */
  readonly name: string;
  /** Teardown order (see recorded-processes.ts): lower stops first. */
  readonly stage: number;
  readonly file: string;
  readonly args: readonly string[];
  /** An argument only this process has (its configuration file or data directory). */
  readonly identity: string;
  readonly logFile: string;
  /** Run as the PostgreSQL server user (Patroni: PostgreSQL refuses root). */
  readonly asServerUser: boolean;
}

/** PG* variables would retarget the members' initdb/pg_ctl; HOME is the run directory (patronictl's defaults). */
export function toolEnvironment(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("PG")) env[key] = value;
  return { ...env, HOME: home, LC_ALL: "C.UTF-8", LANG: "C.UTF-8", PYTHONUNBUFFERED: "1", ETCDCTL_API: "3" };
}

/**
 * Starts a long-running program in a session of its own (a Ctrl-C on the terminal reaches the test
 * runner, whose handlers stop it, not the program directly), output appended to its log, and
 * records its pid in `baseDir` so the teardown and a later sweep stop it by pid. Returns the pid.
 */
export function startDaemon(baseDir: string, spec: DaemonSpec): number {
  const user = spec.asServerUser ? serverUser() : null;
  const log = openSync(spec.logFile, "a");
  try {
    const child = spawn(spec.file, spec.args, {
      cwd: baseDir,
      env: toolEnvironment(baseDir),
      detached: true,
      stdio: ["ignore", log, log],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    child.on("error", () => {}); // reported below: no pid
    if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.file}`);
    child.unref();
    recordProcess(baseDir, { name: spec.name, stage: spec.stage, pid: child.pid, identity: spec.identity });
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** The last `lines` lines of a log, for an error message. */
export function logTail(file: string, lines = 30): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs a command line tool to completion; rejects with its output on failure or after `timeoutMs`. */
export function runTool(file: string, args: readonly string[], home: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: toolEnvironment(home), timeout: timeoutMs, cwd: home }, (error, stdout, stderr) => {
      if (error) reject(new Error(`\`${[file, ...args].join(" ")}\` failed: ${error.message}\n${stderr}${stdout}`));
      else resolve(stdout);
    });
  });
}

/**
 * Polls `check` every `intervalMs` until it returns a value other than undefined; after
 * `timeoutMs` rejects with `what` and `explain()` (a log tail). A check that throws counts as not yet.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number; explain?: () => string },
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const why = lastError === undefined ? "" : ` (last error: ${(lastError as Error).message ?? lastError})`;
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${what}${why}\n${options.explain?.() ?? ""}`,
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** Sends `signal` to `pid` if it is alive; true if it was. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

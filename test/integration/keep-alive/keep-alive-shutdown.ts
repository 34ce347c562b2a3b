import { type AppExit, AppProcess, type AppRunner } from "../../../examples/demo/app-process.ts";
import { type ClientRequestRecord, KeepAliveLoad } from "./keep-alive-clients.ts";

/** One server kind under test: the script, how it runs, and what its log says when the signal came. */
export interface ShutdownSubject {
  readonly name: string;
  readonly script: string;
  readonly runner: AppRunner;
}

/** The three servers prisma-split drains: node:http, Express and Fastify, each in its own `node --import tsx` process. */
export const SHUTDOWN_SUBJECTS: readonly ShutdownSubject[] = [
  { name: "node:http", script: "test/fixtures/node-http-app.ts", runner: "node" },
  { name: "Express", script: "examples/express/server.ts", runner: "node" },
  { name: "Fastify", script: "examples/fastify/server.ts", runner: "node" },
];

/**
 * Express under the `tsx` command, whose parent process relays the signal to the app's and
 * SIGKILLs it when it has not acknowledged the signal within 30 ms (tsx 4.23): measured, not tested.
 */
export const TSX_SUBJECT: ShutdownSubject = {
  name: "Express under tsx",
  script: "examples/express/server.ts",
  runner: "tsx",
};

/** The line every subject prints from its `shutdown:start` listener, synchronously in the signal's handler. */
const NOTICED = /SIGTERM: readiness off/;

export interface KeepAliveShutdownResult {
  readonly exit: AppExit;
  /** From `kill()` to the process's exit. */
  readonly msToExit: number;
  /** Requests whose bytes were written before `kill()`. */
  readonly before: Tally;
  /** Written after `kill()` but before the app's log said it had the signal (it may have served them). */
  readonly meanwhile: Tally;
  /** Written after the app's log said it had the signal. */
  readonly after: Tally;
  /** Requests that failed without being written (a refused connection). */
  readonly unsent: Tally;
  /** The app's output; a line printed after the signal starts with when it arrived (`+12 ms`). */
  readonly output: readonly string[];
}

/** Statuses and errors of a group of requests, by value. */
export interface Tally {
  readonly requests: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
}

export interface KeepAliveShutdownOptions {
  readonly subject: ShutdownSubject;
  readonly env: Record<string, string>;
  readonly clients?: number;
  /** How long the clients run before the signal. */
  readonly loadMs?: number;
  /** When to give up on the exit (then SIGKILL). */
  readonly exitTimeoutMs?: number;
}

/**
 * Starts the subject, puts `clients` keep-alive clients in a loop on it (reads of one user and
 * of the latest users, and one write in five), sends SIGTERM after `loadMs`, and reports what
 * every request got, grouped by when its bytes were written, and how long the process took to end.
 */
export async function runKeepAliveShutdown(options: KeepAliveShutdownOptions): Promise<KeepAliveShutdownResult> {
  const { subject, clients = 16, loadMs = 1_500, exitTimeoutMs = 20_000 } = options;
  const app = await AppProcess.start(
    subject.script,
    { PORT: "0", HOST: "127.0.0.1", ...options.env },
    { runner: subject.runner },
  );
  let load: KeepAliveLoad | undefined;
  try {
    const seeded = await fetch(`${app.url}/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: `keep-alive-${process.pid}-${Date.now()}@example.test` }),
    });
    if (seeded.status !== 201) throw new Error(`seeding a user failed: ${seeded.status} ${await seeded.text()}`);
    const { id } = (await seeded.json()) as { id: number };
    const tag = `${process.pid}-${Date.now()}`;
    load = new KeepAliveLoad({
      baseUrl: app.url,
      clients,
      request: (client, round) =>
        round % 5 === 4
          ? { method: "POST", path: "/users", body: { email: `ka-${tag}-${client}-${round}@example.test` } }
          : round % 2 === 0
            ? { method: "GET", path: `/users/${id}` }
            : { method: "GET", path: "/users?limit=5" },
    });
    await new Promise((resolve) => setTimeout(resolve, loadMs));

    const killedAt = performance.now();
    app.signal("SIGTERM");
    const exit = await Promise.race([
      app.exited,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), exitTimeoutMs).unref()),
    ]);
    const exitedAt = performance.now();
    if (exit === undefined) {
      await app.stop(0);
      throw new Error(`${subject.name} had not ended ${exitTimeoutMs} ms after SIGTERM:\n${app.lines.join("\n")}`);
    }
    await load.stop();
    const notice = app.lines.findIndex((line) => NOTICED.test(line));
    const noticedAt = notice === -1 ? Number.POSITIVE_INFINITY : (app.arrivedAt[notice] as number);
    const groups = { before: [], meanwhile: [], after: [], unsent: [] } as Record<string, ClientRequestRecord[]>;
    for (const record of load.records) {
      const at = record.writtenAt;
      const group = at === undefined ? "unsent" : at < killedAt ? "before" : at < noticedAt ? "meanwhile" : "after";
      groups[group]?.push(record);
    }
    return {
      exit,
      msToExit: exitedAt - killedAt,
      before: tally(groups.before ?? []),
      meanwhile: tally(groups.meanwhile ?? []),
      after: tally(groups.after ?? []),
      unsent: tally(groups.unsent ?? []),
      // Each line after the signal with when it reached us, in ms after kill().
      output: app.lines.map((line, index) => {
        const at = (app.arrivedAt[index] as number) - killedAt;
        return at < 0 ? line : `+${Math.round(at)} ms ${line}`;
      }),
    };
  } finally {
    await load?.stop();
    await app.stop(0);
  }
}

function tally(records: readonly ClientRequestRecord[]): Tally {
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const record of records) {
    if (record.status !== undefined) statuses[record.status] = (statuses[record.status] ?? 0) + 1;
    else {
      const key = `${record.error}${record.reused ? " (reused connection)" : ""}`;
      errors[key] = (errors[key] ?? 0) + 1;
    }
  }
  return { requests: records.length, statuses, errors };
}

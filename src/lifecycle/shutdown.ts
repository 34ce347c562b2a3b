import type { SplitEvents } from "../events.js";
import type { DbNode } from "../nodes/db-node.js";
import { busyConnections } from "../pool/busy-connections.js";
import { sendCancelRequest } from "../pool/cancel-request.js";
import { destroySocket } from "../pool/pg-internals.js";

/** How long cancelled queries get to come back, and closing clients and pools gets, before sockets are cut. */
export const FORCE_GRACE_MS = 1_000;

/** What one graceful shutdown works on. */
export interface ShutdownPlan {
  readonly nodes: readonly DbNode[];
  readonly events: SplitEvents;
  /** `SIGTERM`, `SIGINT`, `disconnect` or `shutdown`. */
  readonly trigger: string;
  /** How long in-flight queries may take to finish. */
  readonly timeoutMs: number;
  /** When the shutdown began (`performance.now()`), servers' drain included: `shutdown:done` reports the time since. */
  readonly started: number;
  /** Stop functions of breakers, monitors, metrics, signal listeners; run after the drain, before pools end. */
  readonly closers: ReadonlyArray<() => unknown>;
}

/**
 * The graceful shutdown sequence, after the caller has stopped taking new calls, aborted its
 * closing signal and announced `shutdown:start`: drain in-flight queries (bounded by
 * `timeoutMs`), cancel on the server what is still running, stop every background task, then
 * disconnect every client and end every pool. Never rejects before everything has been tried;
 * rejects with the first failure afterwards.
 */
export async function shutDown(plan: ShutdownPlan): Promise<void> {
  const drained = await drain(plan.nodes, plan.timeoutMs);
  const cancelled = drained ? 0 : await cancelStragglers(plan.nodes);

  const failures: unknown[] = [];
  for (const result of await Promise.allSettled(plan.closers.map(async (close) => close()))) {
    if (result.status === "rejected") failures.push(result.reason);
  }
  failures.push(...(await closeNodes(plan.nodes)));

  safely(() =>
    plan.events.emit("shutdown:done", {
      trigger: plan.trigger,
      drained,
      cancelled,
      durationMs: performance.now() - plan.started,
      error: failures[0],
    }),
  );
  if (failures.length > 0) throw failures[0];
}

/** Waits until no node has a query in flight; false when `timeoutMs` ran out first. */
async function drain(nodes: readonly DbNode[], timeoutMs: number): Promise<boolean> {
  const idle = Promise.all(nodes.map((node) => node.whenIdle())).then(() => true);
  return raceTimeout(idle, timeoutMs, false);
}

/**
 * Cancels the query of every connection still checked out (a CancelRequest, as psql's Ctrl-C),
 * waits briefly for them to come back, and closes those that did not (an idle open transaction
 * has no query to cancel; closing the connection rolls it back). Returns how many were busy.
 */
async function cancelStragglers(nodes: readonly DbNode[]): Promise<number> {
  const busy = nodes.flatMap((node) => busyConnections(node.pool));
  await Promise.all(busy.map((client) => sendCancelRequest(client, FORCE_GRACE_MS)));
  await raceTimeout(Promise.all(nodes.map((node) => node.whenIdle())), FORCE_GRACE_MS, undefined);
  for (const node of nodes) {
    for (const client of busyConnections(node.pool)) client.end().catch(() => {});
  }
  return busy.length;
}

/** Disconnects every client and ends every pool; cuts the sockets of what has not closed after a grace period. */
async function closeNodes(nodes: readonly DbNode[]): Promise<unknown[]> {
  const closing = Promise.allSettled(nodes.map((node) => node.close()));
  const results = await raceTimeout(closing, FORCE_GRACE_MS, undefined);
  if (results !== undefined) {
    return results.filter((result) => result.status === "rejected").map((result) => result.reason);
  }
  for (const node of nodes) for (const client of busyConnections(node.pool)) destroySocket(client);
  return (await closing).filter((result) => result.status === "rejected").map((result) => result.reason);
}

/**
 * `promise`, or `onTimeout` after `timeoutMs`. The timer is not unref()ed: during a shutdown these
 * deadlines are the process's foreground work, and an unref()ed one could let the process end
 * early, with exit code 0 instead of the signal's.
 */
function raceTimeout<T, F>(promise: Promise<T>, timeoutMs: number, onTimeout: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A throwing event listener must not stop the shutdown half-way. */
export function safely(emit: () => void): void {
  try {
    emit();
  } catch {
    // the listener's own fault; the shutdown goes on
  }
}

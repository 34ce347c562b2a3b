import { AsyncLocalStorage } from "node:async_hooks";
import { StatementTicket, statementTickets } from "../nodes/statement-ticket.js";

/** A bound on the calls of one scope: a time (ms, `performance.now()`), an abort signal, or both. */
export interface Deadline {
  readonly at: number;
  readonly signal: AbortSignal | undefined;
}

const deadlines = new AsyncLocalStorage<Deadline>();

/**
 * Runs `fn` so that every call it starts, however deep in its async calls, ends by `bound`
 * (ms from now, or when the signal aborts). Inside another scope, the sooner of both applies.
 */
export function runWithDeadline<T>(bound: number | AbortSignal, fn: () => T | PromiseLike<T>): Promise<T> {
  const outer = deadlines.getStore();
  const at = typeof bound === "number" ? performance.now() + bound : Number.POSITIVE_INFINITY;
  const signals = [outer?.signal, typeof bound === "number" ? undefined : bound].filter(
    (signal): signal is AbortSignal => signal !== undefined,
  );
  const deadline: Deadline = {
    at: Math.min(at, outer?.at ?? Number.POSITIVE_INFINITY),
    signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
  };
  return deadlines.run(deadline, () => {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  });
}

/** The deadline a call started now must meet: its scope's, or `defaultMs` from now, the sooner. */
export function currentDeadline(defaultMs: number | false): Deadline | undefined {
  const scoped = deadlines.getStore();
  if (defaultMs === false) return scoped;
  const at = performance.now() + defaultMs;
  return scoped === undefined || at < scoped.at ? { at, signal: scoped?.signal } : scoped;
}

/**
 * Runs `work` bounded by `deadline`. When it expires first (or its signal aborts) the caller gets
 * `expired(ticket)` at once, the statement the work is running is cancelled on the server, and one
 * still waiting for a connection is never sent (StatementTicket). The work's late outcome is
 * dropped without an unhandled rejection. With `shared` (a statement Prisma may run for other
 * callers too, as it batches the `findUnique`s of one tick), the caller still gets `expired()`
 * but the statement is left to finish: it is not this call's alone to cancel. Either way the
 * work's ticket says it expired, so what follows a failure of it (a retry) is not started.
 */
export function bounded<T>(
  deadline: Deadline,
  work: (ticket: StatementTicket) => Promise<T>,
  expired: (ticket: StatementTicket | undefined) => Error,
  shared = false,
): Promise<T> {
  if (deadline.signal?.aborted || deadline.at <= performance.now()) return Promise.reject(expired(undefined));
  const ticket = new StatementTicket();
  // A shared statement's pool never sees the ticket, so expiring it cancels nothing; the work
  // still sees that the call gave up (no retry after the caller's 503).
  const running = statementTickets.run(shared ? undefined : ticket, () => work(ticket));
  running.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expiry = new Promise<never>((_, reject) => {
    const expire = () => {
      ticket.expire();
      reject(expired(ticket));
    };
    if (deadline.at !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(expire, Math.max(0, deadline.at - performance.now()));
    }
    if (deadline.signal !== undefined) {
      onAbort = expire;
      deadline.signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  return Promise.race([running, expiry]).finally(() => {
    clearTimeout(timer);
    if (onAbort !== undefined) deadline.signal?.removeEventListener("abort", onAbort);
  });
}

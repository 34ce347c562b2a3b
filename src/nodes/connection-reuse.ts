import type { Pool, PoolClient } from "pg";

/**
 * What decides whether a pooled connection may serve the next caller. pg's client-side read
 * timeout (`query_timeout`) ends the wait for a statement, not the statement: the connection stays
 * usable while the server may still be running it inside an open transaction. Handed to the next
 * caller, its writes would run inside that transaction, be acknowledged, and be rolled back when
 * the connection closes. So a connection whose session state is not known is closed, never reused.
 */
export interface SessionAware {
  /** False while the connection is (or may be) inside a transaction, or its state is unknown. */
  readonly reusable: boolean;
}

/**
 * Closes, on its way back into `pool`, every connection that is not `reusable`. pg-pool already
 * drops a connection released with an error; the adapter's transactions release theirs without
 * one, whatever became of their COMMIT or ROLLBACK. `end()` marks the client as ending at once,
 * and pg-pool drops an ending client instead of keeping it idle (test/integration/connection-reuse
 * .test.ts breaks if that stops being so); with a statement still running, `end()` cuts the socket.
 */
export function closeUnknownSessions(pool: Pool): void {
  pool.on("release", (error: Error | boolean | undefined, client: PoolClient) => {
    if (!error && !(client as unknown as SessionAware).reusable) client.end().catch(() => {});
  });
}

/** The server answered (an ErrorResponse, with a SQLSTATE): the protocol and the session state are known. */
export function isServerAnswer(error: unknown): boolean {
  return typeof error === "object" && error !== null && "severity" in error;
}

const UNANSWERED_COMMIT = Symbol.for("prisma-split.unansweredCommit");

/** Marks the error of a COMMIT that was sent and never answered: it may or may not have committed. */
export function markUnansweredCommit(error: unknown): void {
  if (typeof error === "object" && error !== null) {
    Object.defineProperty(error, UNANSWERED_COMMIT, { value: true, enumerable: false });
  }
}

/** True for the error of a COMMIT that was sent and never answered (see markUnansweredCommit). */
export function isUnansweredCommit(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { [UNANSWERED_COMMIT]?: boolean })[UNANSWERED_COMMIT] === true
  );
}

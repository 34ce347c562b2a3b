import type { ConnectionSettings } from "./connection-url.js";

/**
 * How long past the server's `statement_timeout` a silent server is given before it counts as
 * gone: half the bound, at least 250 ms (a busy event loop must not make a live server look
 * silent), at most 1 s.
 */
export function clientGraceMs(statementBoundMs: number): number {
  return Math.min(1_000, Math.max(250, Math.ceil(statementBoundMs / 2)));
}

/**
 * Puts a statement time bound (`breaker.timeout`, `queryTimeoutMs`) on a node's connections, so
 * that a slow query and a dead server can be told apart:
 * - the server's `statement_timeout` ends a statement that runs longer (SQLSTATE 57014: the
 *   query's own outcome, never a node fault) — Prisma cannot cancel a query, the server can;
 * - pg's client-side `query_timeout`, `clientGraceMs()` later, ends the wait for a server that
 *   does not answer at all (a black-holed network): only that counts against the node.
 * A live server always answers first. A `statement_timeout` in the URL wins. Behind PgBouncer
 * (`?pgbouncer=true`), which refuses unknown startup parameters, only the client-side bound is set.
 *
 * @example
 * withTimeBounds(settings, 10_000, false) // ...?statement_timeout=10000&query_timeout=11000
 */
export function withTimeBounds(
  settings: ConnectionSettings,
  boundMs: number | false,
  behindPgBouncer: boolean,
): ConnectionSettings {
  const url = new URL(settings.connectionString);
  const params = url.searchParams;
  let statementBoundMs: number | undefined;
  if (boundMs !== false && !params.has("statement_timeout") && !behindPgBouncer) {
    statementBoundMs = Math.ceil(boundMs);
    params.set("statement_timeout", String(statementBoundMs));
  }
  const serverBound = Number(params.get("statement_timeout") ?? (boundMs === false ? 0 : boundMs));
  if (!params.has("query_timeout") && Number.isFinite(serverBound) && serverBound > 0) {
    params.set("query_timeout", String(Math.ceil(serverBound) + clientGraceMs(serverBound)));
  }
  const connectionString = url.toString();
  if (connectionString === settings.connectionString) return settings;
  return { ...settings, connectionString, ...(statementBoundMs === undefined ? {} : { statementBoundMs }) };
}

/** The tightest of the time bounds that are on, or false. */
export function tightestBound(...bounds: ReadonlyArray<number | false>): number | false {
  const on = bounds.filter((bound): bound is number => bound !== false);
  return on.length === 0 ? false : Math.min(...on);
}

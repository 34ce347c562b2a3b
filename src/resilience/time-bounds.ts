import type { ConnectionSettings } from "../config/connection-url.js";

/** Past the server's own timeout, so the server's clean 57014 comes first. */
const CLIENT_GRACE_MS = 1_000;

/**
 * Backs the caller's time bound (`queryTimeoutMs`, the breaker's `timeout`) on the connections:
 * the server's `statement_timeout` stops a query the caller stopped waiting for (Prisma cannot
 * cancel one), and pg's client-side `query_timeout` a little later frees a connection whose
 * server never answers (a black-holed network), so the pool does not fill with dead sockets.
 * A `statement_timeout` in the URL wins. Behind PgBouncer (`?pgbouncer=true`), which refuses
 * unknown startup parameters, only the client-side bound is set.
 *
 * Waiting for a pool connection (`pool_timeout`) ends no later than the bound either: a call
 * the caller was already told had failed (a 503 at the breaker's timeout) must not start later
 * on a connection that frees up, least of all a write.
 *
 * @example
 * withTimeBounds(settings, 10_000) // ...?statement_timeout=10000&query_timeout=11000
 */
export function withTimeBounds(settings: ConnectionSettings, boundMs: number | false): ConnectionSettings {
  const url = new URL(settings.connectionString);
  const params = url.searchParams;
  const behindPgBouncer = /[?&]pgbouncer=true\b/i.test(settings.redactedUrl);
  if (boundMs !== false && !params.has("statement_timeout") && !behindPgBouncer) {
    params.set("statement_timeout", String(Math.ceil(boundMs)));
  }
  const serverBound = Number(params.get("statement_timeout") ?? (boundMs === false ? 0 : boundMs));
  if (!params.has("query_timeout") && Number.isFinite(serverBound) && serverBound > 0) {
    params.set("query_timeout", String(Math.ceil(serverBound) + CLIENT_GRACE_MS));
  }
  const connectionString = url.toString();
  const poolTimeoutMs =
    boundMs !== false && (settings.poolTimeoutMs === 0 || settings.poolTimeoutMs > boundMs)
      ? boundMs
      : settings.poolTimeoutMs;
  if (connectionString === settings.connectionString && poolTimeoutMs === settings.poolTimeoutMs) return settings;
  return { ...settings, connectionString, poolTimeoutMs };
}

/** The tightest of the time bounds that are on, or false. */
export function tightestBound(...bounds: ReadonlyArray<number | false>): number | false {
  const on = bounds.filter((bound): bound is number => bound !== false);
  return on.length === 0 ? false : Math.min(...on);
}

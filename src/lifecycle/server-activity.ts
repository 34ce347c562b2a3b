import type { ConnectionSettings } from "../config/connection-url.js";
import { loadDriver } from "../pool/driver.js";
import { ownConnectionConfig } from "../pool/pool-config.js";
import { serverNumber, serverQuery } from "../pool/server-text.js";

/** What one server says of itself and of this app's database role (`pg_stat_activity`). */
export interface ServerActivity {
  readonly serverVersion: string;
  readonly maxConnections: number;
  /** Client backends on the server, every role and app (this reading's own excluded). */
  readonly connections: number;
  /** The sessions of the role this app logs in as, prisma-split's own reading excluded. */
  readonly role: {
    readonly name: string;
    readonly total: number;
    readonly active: number;
    readonly idle: number;
    readonly idleInTransaction: number;
    /** Sessions whose statement waits for a lock another session holds. */
    readonly waitingOnLock: number;
    /** Age of the oldest open transaction (ms); 0 when none is open. */
    readonly longestTransactionMs: number;
  };
}

const ACTIVITY_SQL = `SELECT current_setting('server_version') AS server_version,
  current_setting('max_connections') AS max_connections,
  current_user AS role,
  count(*) AS connections,
  count(*) FILTER (WHERE a.usename = current_user) AS role_total,
  count(*) FILTER (WHERE a.usename = current_user AND a.state = 'active') AS role_active,
  count(*) FILTER (WHERE a.usename = current_user AND a.state = 'idle') AS role_idle,
  count(*) FILTER (WHERE a.usename = current_user AND a.state LIKE 'idle in transaction%') AS role_idle_in_transaction,
  count(*) FILTER (WHERE a.usename = current_user AND a.wait_event_type = 'Lock') AS role_waiting_on_lock,
  coalesce(extract(epoch FROM max(now() - a.xact_start) FILTER (WHERE a.usename = current_user)) * 1000, 0)
    AS longest_transaction_ms
FROM pg_stat_activity a
WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()`;

type ActivityRow = Record<
  | "server_version"
  | "max_connections"
  | "role"
  | "connections"
  | "role_total"
  | "role_active"
  | "role_idle"
  | "role_idle_in_transaction"
  | "role_waiting_on_lock"
  | "longest_transaction_ms",
  string
>;

/**
 * Reads the server's activity on a connection of its own, outside the node's pool: the question
 * is asked when the pool is full, and must not wait behind the queries it is about. Bounded by
 * `timeoutMs` (connect and statement). Rejects when the server cannot be read.
 */
export async function readServerActivity(settings: ConnectionSettings, timeoutMs: number): Promise<ServerActivity> {
  const { pg } = loadDriver();
  const client = new pg.Client({
    ...ownConnectionConfig(settings.connectionString, settings.driver),
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    // A startup parameter PgBouncer refuses; query_timeout bounds the reading there.
    statement_timeout: settings.pgbouncer ? undefined : timeoutMs,
    fallback_application_name: "prisma-split/diagnostics",
  } as never);
  // A server going away emits 'error' on the client; unheard, it would crash the process.
  client.on("error", () => {});
  try {
    await client.connect();
    const row = (await client.query<ActivityRow>(serverQuery(ACTIVITY_SQL))).rows[0] as ActivityRow;
    const count = (value: string) => serverNumber(value) ?? 0;
    return {
      serverVersion: row.server_version,
      maxConnections: count(row.max_connections),
      connections: count(row.connections),
      role: {
        name: row.role,
        total: count(row.role_total),
        active: count(row.role_active),
        idle: count(row.role_idle),
        idleInTransaction: count(row.role_idle_in_transaction),
        waitingOnLock: count(row.role_waiting_on_lock),
        longestTransactionMs: Math.round(count(row.longest_transaction_ms)),
      },
    };
  } finally {
    await client.end().catch(() => {});
  }
}

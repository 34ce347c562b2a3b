import type { ConnectionSettings } from "../config/connection-url.js";
import { loadDriver } from "../pool/driver.js";

/** What `doctor` learns from one server over a plain pg connection. */
export interface ServerFacts {
  readonly inRecovery: boolean;
  readonly serverVersion: string;
  readonly maxConnections: number;
  /** superuser_reserved_connections + reserved_connections (PostgreSQL 16+). */
  readonly superuserReserved: number;
  /** Client backends connected right now (all users and apps). */
  readonly connections: number;
  /** The primary's current WAL position, or the position a standby has replayed. */
  readonly walLsn: string | undefined;
  /** How far a standby's replay is behind what it received, in time (0 when caught up); undefined on a primary. */
  readonly replayDelayMs: number | undefined;
  /** Identifies the cluster a server belongs to: a primary and its standbys share it. Undefined without the privilege. */
  readonly systemIdentifier: string | undefined;
  /** Median of three `SELECT 1` round trips on the open connection. */
  readonly latencyMs: number;
}

const FACTS_SQL = `SELECT pg_is_in_recovery() AS in_recovery,
  current_setting('server_version') AS server_version,
  current_setting('max_connections')::int AS max_connections,
  current_setting('superuser_reserved_connections')::int
    + coalesce(current_setting('reserved_connections', true), '0')::int AS superuser_reserved,
  (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections,
  CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text ELSE pg_current_wal_lsn()::text END AS wal_lsn,
  CASE WHEN pg_is_in_recovery() THEN
    CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
         ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000 END
  END::float8 AS replay_delay_ms`;

interface FactsRow {
  in_recovery: boolean;
  server_version: string;
  max_connections: number;
  superuser_reserved: number;
  connections: number;
  wal_lsn: string | null;
  replay_delay_ms: number | null;
}

/** Connects with plain pg (no PrismaClient), reads the server's facts, disconnects. Rejects when unreachable. */
export async function probeServer(settings: ConnectionSettings, connectTimeoutMs: number): Promise<ServerFacts> {
  const { pg } = loadDriver();
  const client = new pg.Client({
    connectionString: settings.connectionString,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: "prisma-split/doctor",
    // PgBouncer refuses the `options` startup parameter (and the facts need no schema).
    ...(settings.schema === undefined || settings.pgbouncer ? {} : { options: `-c search_path="${settings.schema}"` }),
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const row = (await client.query<FactsRow>(FACTS_SQL)).rows[0] as FactsRow;
    const systemIdentifier = await client
      .query<{ id: string }>("SELECT system_identifier::text AS id FROM pg_control_system()")
      .then((result) => result.rows[0]?.id)
      .catch(() => undefined);
    const rounds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await client.query("SELECT 1");
      rounds.push(performance.now() - started);
    }
    return {
      inRecovery: row.in_recovery,
      serverVersion: row.server_version,
      maxConnections: row.max_connections,
      superuserReserved: row.superuser_reserved,
      connections: row.connections,
      walLsn: row.wal_lsn ?? undefined,
      replayDelayMs: row.replay_delay_ms ?? undefined,
      systemIdentifier,
      latencyMs: rounds.sort((a, b) => a - b)[1] as number,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** A WAL position (`16/B374D848`) as a byte offset. */
export function lsnToBytes(lsn: string): bigint {
  const [high = "0", low = "0"] = lsn.split("/");
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

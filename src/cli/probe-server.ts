import type { ConnectionSettings } from "../config/connection-url.js";
import { type ProbeSample, readProbeSample } from "../monitor/node-probe.js";
import { loadDriver } from "../pool/driver.js";
import { ownConnectionConfig } from "../pool/pool-config.js";
import { serverNumber, serverQuery } from "../pool/server-text.js";

/** What `doctor` learns from one server over a plain pg connection. */
export interface ServerFacts {
  /** Role and WAL positions: the replica monitor's own probe (monitor/node-probe.ts). */
  readonly sample: ProbeSample;
  readonly serverVersion: string;
  readonly maxConnections: number;
  /** superuser_reserved_connections + reserved_connections (PostgreSQL 16+). */
  readonly superuserReserved: number;
  /** Client backends connected right now (all users and apps). */
  readonly connections: number;
  /** Identifies the cluster a server belongs to: a primary and its standbys share it. Undefined without the privilege. */
  readonly systemIdentifier: string | undefined;
  /** Median of three `SELECT 1` round trips on the open connection. */
  readonly latencyMs: number;
}

const LIMITS_SQL = `SELECT current_setting('server_version') AS server_version,
  current_setting('max_connections') AS max_connections,
  current_setting('superuser_reserved_connections')::int
    + coalesce(current_setting('reserved_connections', true), '0')::int AS superuser_reserved,
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections`;

interface LimitsRow {
  server_version: string;
  max_connections: string;
  superuser_reserved: string;
  connections: string;
}

/** Connects with plain pg (no PrismaClient), reads the server's facts, disconnects. Rejects when unreachable. */
export async function probeServer(settings: ConnectionSettings, connectTimeoutMs: number): Promise<ServerFacts> {
  const { pg } = loadDriver();
  const client = new pg.Client({
    ...ownConnectionConfig(settings.connectionString, settings.driver),
    connectionTimeoutMillis: connectTimeoutMs,
    fallback_application_name: "prisma-split/doctor",
  } as never);
  client.on("error", () => {});
  await client.connect();
  try {
    const sample = await readProbeSample(client);
    const limits = (await client.query<LimitsRow>(serverQuery(LIMITS_SQL))).rows[0] as LimitsRow;
    const systemIdentifier = await client
      .query<{ id: string }>(serverQuery("SELECT system_identifier::text AS id FROM pg_control_system()"))
      .then((result) => result.rows[0]?.id)
      .catch(() => undefined);
    const rounds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await client.query("SELECT 1");
      rounds.push(performance.now() - started);
    }
    return {
      sample,
      serverVersion: limits.server_version,
      maxConnections: serverNumber(limits.max_connections) ?? 0,
      superuserReserved: serverNumber(limits.superuser_reserved) ?? 0,
      connections: serverNumber(limits.connections) ?? 0,
      systemIdentifier,
      latencyMs: rounds.sort((a, b) => a - b)[1] as number,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

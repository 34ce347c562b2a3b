import type { Client } from "pg";
import type { ConnectionSettings } from "../config/connection-url.js";
import { type Lsn, parseOptionalLsn } from "../nodes/lsn.js";
import { loadDriver } from "../pool/driver.js";
import { unrefSocket } from "../pool/pg-internals.js";
import { ownConnectionConfig } from "../pool/pool-config.js";
import { serverBoolean, serverNumber, serverQuery } from "../pool/server-text.js";

/** What one probe reads off a server, in one round trip. */
export interface ProbeSample {
  /** `pg_is_in_recovery()`. */
  readonly inRecovery: boolean;
  /** A primary's flushed WAL position (what standbys can stream); undefined on a standby. */
  readonly walLsn: Lsn | undefined;
  readonly receiveLsn: Lsn | undefined;
  readonly replayLsn: Lsn | undefined;
  /** The standby's clock minus `pg_last_xact_replay_timestamp()`; undefined when unknown. */
  readonly replayDelayMs: number | undefined;
  /**
   * Which server instance answered (its address, port and postmaster start time): two endpoints
   * (HAProxy's two ports) that reach the same server give the same value.
   */
  readonly server: string;
}

// One statement for either role. CASE keeps pg_current_wal_flush_lsn() (which fails during
// recovery) off standbys; the receive/replay functions return NULL on a primary.
const PROBE_SQL = `SELECT pg_is_in_recovery() AS in_recovery,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END AS wal_lsn,
  pg_last_wal_receive_lsn()::text AS receive_lsn,
  pg_last_wal_replay_lsn()::text AS replay_lsn,
  (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS replay_delay_ms,
  concat_ws(' ', inet_server_addr(), inet_server_port(), pg_postmaster_start_time()) AS server`;

/**
 * The role and WAL positions of the server behind `client`, in one round trip: what the replica
 * monitor polls and what `doctor` checks, so both judge a node from the same reading. Parsed
 * from the server's text, never by the user's `types` (see server-text.ts).
 */
export async function readProbeSample(client: Pick<Client, "query">): Promise<ProbeSample> {
  const { rows } = await client.query<ProbeRow>(serverQuery(PROBE_SQL));
  const row = rows[0] as ProbeRow;
  const inRecovery = serverBoolean(row.in_recovery);
  if (inRecovery === undefined) throw new Error("prisma-split: the probe's pg_is_in_recovery() gave no answer");
  const replayDelayMs = serverNumber(row.replay_delay_ms);
  return {
    inRecovery,
    walLsn: parseOptionalLsn(row.wal_lsn),
    receiveLsn: parseOptionalLsn(row.receive_lsn),
    replayLsn: parseOptionalLsn(row.replay_lsn),
    replayDelayMs: replayDelayMs === undefined ? undefined : Math.max(0, replayDelayMs),
    server: row.server,
  };
}

const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

/** As the server sent it (server-text.ts): `t`/`f`, numbers as text. */
interface ProbeRow {
  in_recovery: string;
  wal_lsn: string | null;
  receive_lsn: string | null;
  replay_lsn: string | null;
  replay_delay_ms: string | null;
  server: string;
}

/**
 * The replica monitor's own connection to one node: one small `pg` client (from the adapter's
 * copy of `pg`), not a connection of the node's Prisma pool, so a busy pool never delays the
 * probe and the probe never takes a connection from the app. Its socket is unref()ed: a probe
 * never keeps the process alive. Any failure drops the connection; the next probe reconnects.
 *
 * A probe is bounded by `timeoutMs` as a whole, connecting included: a frozen server accepts the
 * TCP connection and never answers the login. The node URL's own `query_timeout`,
 * `statement_timeout` and `connect_timeout` (set for the app's queries, often 10 s and more) do
 * not apply to it, nor do the user's `types` parsers (nor pg's global ones): the probe reads the
 * server's text itself, its answers must mean what they say.
 */
export class NodeProbe {
  readonly #settings: ConnectionSettings;
  readonly #applicationName: string;
  readonly #timeoutMs: number;
  readonly #isPermanent: (error: unknown) => boolean;
  readonly #now: () => number;
  /** After a permanent failure: no new login before this time (ms, `now()`), the wait doubling each time. */
  #backoff: { until: number; waitMs: number; error: unknown } | undefined;
  #client: Promise<Client> | undefined;
  #connected: Client | undefined;
  /** The client while it logs in: a probe that times out ends it. */
  #connecting: Client | undefined;
  /** Queries sent (the benchmark reads it). */
  queries = 0;

  constructor(
    settings: ConnectionSettings,
    nodeName: string,
    timeoutMs: number,
    isPermanent: (error: unknown) => boolean = () => false,
    now: () => number = () => performance.now(),
  ) {
    this.#settings = settings;
    this.#applicationName = `prisma-split/monitor/${nodeName}`;
    this.#timeoutMs = timeoutMs;
    this.#isPermanent = isPermanent;
    this.#now = now;
  }

  /**
   * Reads the node's role and WAL positions; rejects when the node does not answer in time. After
   * a permanent failure (wrong password, unknown database, SSL) it rejects with that failure
   * without logging in again until its back-off (1 s, doubling to 60 s) is over: no login storm.
   */
  async probe(): Promise<ProbeSample> {
    const backoff = this.#backoff;
    if (backoff !== undefined && this.#now() < backoff.until) throw backoff.error;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`prisma-split: no answer to the monitor's probe within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([this.#ask(), timedOut]);
    } catch (error) {
      this.close();
      if (this.#isPermanent(error)) {
        const waitMs = Math.min(MAX_BACKOFF_MS, (this.#backoff?.waitMs ?? MIN_BACKOFF_MS / 2) * 2);
        this.#backoff = { until: this.#now() + waitMs, waitMs, error };
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #ask(): Promise<ProbeSample> {
    this.#client ??= this.#connect();
    const client = await this.#client;
    this.queries++;
    const sample = await readProbeSample(client);
    this.#backoff = undefined;
    return sample;
  }

  /** Drops the connection (if any, even one still connecting); the next probe opens a new one. */
  close(): void {
    const client = this.#client;
    this.#client = undefined;
    this.#connected = undefined;
    this.#connecting?.end().catch(() => {});
    this.#connecting = undefined;
    client?.then(
      (connected) => connected.end().catch(() => {}),
      () => {},
    );
  }

  async #connect(): Promise<Client> {
    const { pg } = loadDriver();
    // The URL parsed into fields (a connection string would win over the bounds below), with the
    // user's own driver settings (a password function, an ssl object) as the node's pool has them.
    const config = ownConnectionConfig(this.#settings.connectionString, this.#settings.driver);
    const client = new pg.Client({
      ...config,
      connectionTimeoutMillis: this.#timeoutMs,
      connect_timeout: undefined,
      query_timeout: this.#timeoutMs,
      // A startup parameter PgBouncer refuses; query_timeout bounds the probe there.
      statement_timeout: this.#settings.pgbouncer ? undefined : this.#timeoutMs,
      fallback_application_name: this.#applicationName,
    } as never);
    // A server going away emits 'error' on an idle client; unheard, it would crash the process.
    client.on("error", () => {
      if (this.#connected === client) this.close();
    });
    unrefSocket(client);
    this.#connecting = client;
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    } finally {
      if (this.#connecting === client) this.#connecting = undefined;
    }
    unrefSocket(client); // TLS replaces the socket during connect()
    this.#connected = client;
    return client;
  }
}

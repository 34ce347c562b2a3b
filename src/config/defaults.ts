import { availableParallelism } from "node:os";
import type { DurationLabel, Readiness, ReadMode, ReadYourWrites, SelectionStrategy } from "./choices.js";
import type { ReplicaSelector } from "./options.js";
import type { ZonesOption } from "./replica-zones.js";

/**
 * Every default of prisma-split, in one frozen object: `createDb()`'s option groups, the URL
 * parameters Prisma documents and the HTTP middleware's carrier. The option types
 * (`BreakerOptions`, ...), the keys each group knows and the resolved settings all derive from
 * it, and each value is read by its rule in `schema.ts` (the compiler refuses a key without one).
 * A group that can be turned off holds the values it takes when on; each is on unless its JSDoc
 * says otherwise (`replicas.hedge`). Values a type widens (a string choice, `false`) carry the
 * option's own type.
 *
 * @example
 * import { DEFAULTS } from "prisma-split";
 * DEFAULTS.breaker.timeout; // 10_000
 */
export const DEFAULTS = frozen({
  /**
   * Where reads go unless a call says otherwise (see {@link ReadMode}). `"primary"` is the safe
   * first step of a migration: every read stays on the primary, and `db.$replica()` or
   * `db.$withReplica(fn)` moves reads to replicas one at a time. Default: `"replica"`.
   */
  reads: "replica" as ReadMode,
  replicas: frozen({
    /**
     * How a read picks among healthy replicas: `"round-robin"`, `"random"`, `"least-busy"` (fewest
     * queries in flight), `"fastest"` (power of two choices by recent answer time × queries in
     * flight), or your own function. Default: `"fastest"` (with replicas alike it spreads reads as
     * evenly as round-robin; with one slow, far or busy it sends it fewer).
     */
    select: "fastest" as SelectionStrategy | ReplicaSelector,
    /**
     * The zone (availability zone, region, rack) this process runs in: reads go to healthy,
     * caught-up replicas of that zone, and to the other replicas only when none of it can take
     * them. Each replica's zone comes from `zones`, `DATABASE_REPLICA_ZONES` or its URL's `?zone=`.
     * Default: none (every replica alike).
     */
    preferZone: undefined as string | undefined,
    /**
     * Each replica's zone: an array in the order of the replicas (one entry per host), or a
     * function of the replica (`{ name, role, index, url }`) as `pool` takes. Default:
     * `process.env.DATABASE_REPLICA_ZONES`, comma-separated in the same order (an empty entry: no
     * zone), and a replica URL's `?zone=` parameter.
     */
    zones: undefined as ZonesOption | undefined,
    /** Reads go to the primary when no replica can take them. Default: `true`. */
    fallbackToPrimary: true,
    /**
     * A replica whose replay is more than this many ms behind the primary leaves read rotation;
     * it returns once it is back within half of it. `false`: no time bound. Default: `10_000`.
     */
    maxLagMs: 10_000 as number | false,
    /** The same bound in bytes of WAL the replica has not replayed. Default: `false` (none). */
    maxLagBytes: false as number | false,
    /**
     * How often the replica monitor polls each node, in ms (one small query per node per poll, on
     * its own connection). `false` turns the monitor off: no lag or outage detection, no role
     * check, and `readYourWrites` defaults to `"session"`. Default: `1000`.
     */
    pollIntervalMs: 1000 as number | false,
    /**
     * A "replica" that takes writes while the primary takes writes on another server (split
     * brain), or that is the primary's own server under another name, is always reported
     * (`role:mismatch` event, or a process warning when nobody listens). With `strict`, it also
     * takes no reads: rows written on the primary would never show there. One that takes writes
     * while the primary does not (a promotion under way), or that reaches the primary's server
     * through an endpoint that has been a standby (HAProxy's replica port mid-switchover), keeps
     * its reads. A multi-host primary URL's current writer never takes replica reads, strict or
     * not. Default: `true`.
     */
    strict: true,
    /**
     * Hedged reads (opt-in, "the tail at scale"): a read a replica has not answered after `afterMs`
     * is also sent to another replica; the first answer wins and the other statement is cancelled
     * on its server. Never for writes, transactions, `$withPrimary` or a read-your-writes pin.
     * Default: `false`; `{}` takes the values below.
     */
    hedge: frozen({
      /**
       * ms a read waits for its replica before it is also sent to another one; `"p95"`: the 95th
       * percentile of recent hedgeable reads (no hedge until 32 have been seen). Default: `"p95"`.
       */
      afterMs: "p95" as number | "p95",
      /**
       * Hedges are at most this share of hedgeable reads (plus a burst of 10), so a cluster that is
       * slow everywhere is not sent twice the reads. Default: `0.1`.
       */
      maxExtraRatio: 0.1,
    }),
  }),
  consistency: frozen({
    /** See {@link ReadYourWrites}. Default: `"lsn"` (`"session"` when `replicas.pollIntervalMs` is `false`). */
    readYourWrites: "lsn" as ReadYourWrites,
    /**
     * `"session"`: how long after a write the context's reads stay on the primary, in ms. `"lsn"`
     * uses it only when the WAL position could not be read after a write. Default: `2000`.
     */
    stickyMs: 2000,
  }),
  breaker: frozen({
    /**
     * ms one statement may run: the connections' `statement_timeout` (unless the URL sets one), so
     * the server ends a longer one with SQLSTATE 57014, the query's own error (never a breaker
     * failure, never retried). A server that does not answer at all within it plus a grace (half of
     * it, 0.25–1 s) is a failure of the node. Lifted inside transactions. `false`: no bound.
     * Default: 10 000.
     */
    timeout: 10_000 as number | false,
    /** ms an open breaker waits before letting one trial call through (opossum's 30 s is long for a database restart). Default: 5 000. */
    resetTimeout: 5_000,
    /** Percentage of failed calls in the window that opens the breaker. Default: 50. */
    errorThresholdPercentage: 50,
    /** Calls in the window before the breaker may open (opossum's 0 opens on the first failure). Default: 10. */
    volumeThreshold: 10,
    /** ms of the rolling window failures are counted in. Default: 10 000. */
    rollingCountTimeout: 10_000,
    /** Buckets of the rolling window. Default: 10. */
    rollingCountBuckets: 10,
    /**
     * Also opens after this many infrastructure failures in a row, whatever the window holds:
     * after a busy minute a dead node would otherwise fail for seconds before the percentage
     * rule notices. `false`: percentage rule only. Default: 10.
     */
    consecutiveFailures: 10 as number | false,
  }),
  retry: frozen({
    /** Attempts after the first; at most 3 attempts in all (the first + 2). Default: 2. */
    retries: 2,
    /** ms before the first retry; async-retry's `randomize` multiplies each wait by a random factor in [1, 2). Default: 50. */
    minTimeout: 50,
    /** ms, no wait exceeds this (before `randomize`). Default: 1 000. */
    maxTimeout: 1_000,
    /** Growth of the wait per retry. Default: 2. */
    factor: 2,
    /** Retries per node ≤ `minRetries` + `ratio` × calls over `windowMs`. `false`: no budget. */
    budget: frozen({
      /** Retries allowed per call seen in the window. Default: 0.2 (one retry per five calls). */
      ratio: 0.2,
      /** Retries always allowed per window, so a quiet node can still retry its rare failure. Default: 10. */
      minRetries: 10,
      /** ms over which calls and retries are counted. Default: 10 000. */
      windowMs: 10_000,
    }),
  }),
  bulkhead: frozen({
    /**
     * Also refuse a call when this many already wait for a connection. Default: no count bound
     * (`Infinity`): the time bound (`pool_timeout`) is what sheds, at once for a call that would
     * not get a connection within it.
     */
    maxQueue: Number.POSITIVE_INFINITY,
  }),
  /** Bound of every call in ms, attempts and waits included. Default: `false` (`breaker.timeout` bounds each statement). */
  queryTimeoutMs: false as number | false,
  /** OpenTelemetry spans when `@opentelemetry/api` is installed. Default: `true`. */
  tracing: true as boolean | { readonly tracer?: unknown },
  shutdown: frozen({
    /** Signals that start a graceful shutdown. Default: `["SIGTERM", "SIGINT"]`. */
    signals: Object.freeze(["SIGTERM", "SIGINT"]) as readonly NodeJS.Signals[],
    /**
     * How long in-flight queries may take to finish once shutdown begins; queries still running
     * then are cancelled on the server. Default: 10 000 ms (well inside Kubernetes' 30 s grace period).
     */
    timeoutMs: 10_000,
  }),
  metrics: frozen({
    /** The prom-client `Registry` to register in. Default: prom-client's global `register`. */
    registry: undefined as unknown,
    /** Prefix of every metric name. Default: `"prisma_split_"`. */
    prefix: "prisma_split_",
    /**
     * Upper bounds in seconds of `query_duration_seconds`' buckets, increasing (`+Inf` is always
     * added). Each costs one series per label set. Default: 1 ms to 5 s in 8 buckets.
     */
    buckets: Object.freeze([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]) as readonly number[],
    /**
     * What `query_duration_seconds` is split by beside role and node: any of `"operation"`,
     * `"outcome"`, `"model"`. Default: `["operation", "outcome"]`: `"model"` multiplies the series
     * by the app's number of models, so it is yours to turn on.
     */
    labels: Object.freeze(["operation", "outcome"]) as readonly DurationLabel[],
  }),
  health: frozen({
    /**
     * How long one node's probe (`SELECT` through its pool) may take before it counts as
     * unreachable. Default: 2000 ms (a readiness probe's own timeout is usually 1–5 s).
     */
    timeoutMs: 2_000,
    /**
     * Which node must answer for the instance to be ready. Default: `"any"` (a primary outage must
     * not take every pod out of the load balancer).
     */
    readiness: "any" as Readiness,
  }),
  poolCheck: frozen({
    /**
     * How many processes run this code against the same servers (pods × workers).
     * Default: `process.env.PRISMA_SPLIT_INSTANCES`, else 1.
     */
    instances: 1,
    /**
     * Connections to leave free on each server for admins, migrations and monitoring.
     * Default: 10% of `max_connections`, and never fewer than `superuser_reserved_connections`.
     */
    reserved: undefined as number | undefined,
  }),
  /** Prisma's documented URL parameters, with Prisma 6's defaults (Prisma 7's adapters dropped them). */
  url: frozen({
    /** The pool's `max`. Default: 2 × CPUs + 1, as Prisma 6. */
    connection_limit: availableParallelism() * 2 + 1,
    /** Seconds a query waits for a free connection; 0 = forever. Default: 10. */
    pool_timeout: 10,
    /** Seconds opening a connection may take; 0 = forever. Default: 5. */
    connect_timeout: 5,
  }),
  /** Where `expressConsistency()` / `fastifyConsistency()` carry the consistency token. */
  consistencyHttp: frozen({
    /** A header carrying the token both ways; `false`: no header. Default: `"x-consistency-token"`. */
    header: "x-consistency-token" as string | false,
    /** A cookie carrying it too (browsers send it back by themselves); `false`: none. Default: `false`; `{ name }` takes the values below. */
    cookie: frozen({
      /** The cookie's name (letters, digits, `_`, `-`); required. */
      name: "",
      /** Default: 60. */
      maxAgeSeconds: 60,
      /** `Secure`: sent over HTTPS only. Default: `false`. */
      secure: false,
      /** Default: `"/"`. */
      path: "/",
    }),
  }),
  /** `healthHandlers(db, options)`. */
  healthHandlers: frozen({
    /**
     * Answer readiness with the whole `$health()` report (every node probed, URLs redacted)
     * instead of `{ status }` after `$ready()`'s probes. Default: `false`, since the report names
     * hosts and the endpoint is often reachable from outside.
     */
    detail: false,
    /** Path of the liveness endpoint for `handle()`. Default: `"/health"`. */
    livePath: "/health",
    /** Path of the readiness endpoint for `handle()`. Default: `"/health/ready"`. */
    readyPath: "/health/ready",
    /**
     * The secret a request must send (`Authorization: Bearer <token>`) to read `$diagnostics()`
     * at `diagnosticsPath`: at least 16 characters, from your secret store. Default: none, and
     * no diagnostics endpoint (the report names hosts, roles and what the server runs).
     */
    diagnosticsToken: undefined as string | undefined,
    /** Path of the diagnostics endpoint for `handle()`. Default: `"/health/diagnostics"`. */
    diagnosticsPath: "/health/diagnostics",
  }),
});

/**
 * `Object.freeze` without its literal types (`5_000` stays a `number`), one level: each group is
 * frozen where it is written, so its JSDoc reaches the declaration files and the editor.
 */
function frozen<T extends object>(value: T): Readonly<T> {
  return Object.freeze(value);
}

import { ConfigurationError } from "../errors.js";
import type { ReadMode } from "./choices.js";
import type { ConnectionSettings } from "./connection-url.js";
import { DEFAULTS } from "./defaults.js";
import { type LifecycleSettings, resolveLifecycleOptions } from "./lifecycle-options.js";
import { readLogger, type SplitLogger } from "./logger-option.js";
import { type ClientOptionsOption, type PoolOption, readOverrideOption } from "./node-overrides.js";
import { CREATE_DB_OPTIONS, type CreateDbOptions, type ReplicaSelector, type SelectionStrategy } from "./options.js";
import { resolveReplicaZones } from "./replica-zones.js";
import { type ResolvedNodes, resolveNodes } from "./resolve-nodes.js";
import { type ResolvedResilience, resolveResilience } from "./resolve-resilience.js";
import { type ResolvedUrls, resolveUrls } from "./resolve-urls.js";
import type { Resolved } from "./rules.js";
import { RULES } from "./schema.js";
import { tightestBound } from "./time-bounds.js";
import { isPlainObject, refuseUnknownKeys, show } from "./validate.js";

/** `createDb()`'s options, checked, with every default filled in and every value that follows from them. */
export interface ResolvedConfig extends ResolvedUrls {
  /** Each node's settings as its pool and client get them (time bounds, `pool`, `clientOptions` applied). */
  readonly nodes: ResolvedNodes;
  /** Whether each query's time is measured: only a selector that reads `latencyMs` needs it (a clock read and an exp per query). */
  readonly timesQueries: boolean;
  /** Where state changes are logged; undefined: nowhere. */
  readonly logger: SplitLogger | undefined;
  /** `tracing` as given (checked): `false`, `true` or `{ tracer }`. */
  readonly tracing: boolean | { readonly tracer?: unknown };
  /** Where reads go unless a call says otherwise (`reads`). */
  readonly reads: ReadMode;
  /** The zone reads prefer (`replicas.preferZone`); undefined: none. */
  readonly preferZone: string | undefined;
  /** How reads pick a replica: a built-in strategy's name or the user's function. */
  readonly select: SelectionStrategy | ReplicaSelector;
  readonly fallbackToPrimary: boolean;
  /** Hedged reads; undefined when off (the default) or with fewer than two replicas to race. */
  readonly hedge: HedgeSettings | undefined;
  /** Shutdown, metrics, health and pool-check settings. */
  readonly lifecycle: LifecycleSettings;
  /** Breakers, retries, bulkheads and time bounds. */
  readonly resilience: ResolvedResilience;
  /** The replica monitor's settings; undefined when `replicas.pollIntervalMs` is `false`. */
  readonly monitor: MonitorSettings | undefined;
  /** How the primary follower asks the candidates which one takes writes. */
  readonly follower: FollowerSettings;
  /** Read-your-writes; `"off"` without replicas (every read is on the primary already). */
  readonly consistency: ConsistencySettings;
}

export interface MonitorSettings {
  readonly pollIntervalMs: number;
  readonly maxLagMs: number | undefined;
  readonly maxLagBytes: number | undefined;
  readonly strict: boolean;
  /** Bound of one node's probe, connecting included: `health.timeoutMs`; past it the node is down. */
  readonly probeTimeoutMs: number;
}

export interface FollowerSettings {
  /** Every server that may become the writer (see ResolvedNodes.candidates). */
  readonly candidates: readonly ConnectionSettings[];
  /** A multi-host primary URL need not list the writer first: ask at start. */
  readonly discoverAtStart: boolean;
  /** Bound of one round of questions: twice the poll interval, 1–5 s. */
  readonly probeTimeoutMs: number;
  /** No new round sooner than half a poll interval (at most 1 s) after the last: a burst of 25006 asks once. */
  readonly cooldownMs: number;
  /** While no candidate takes writes, ask again after a poll interval. */
  readonly retryMs: number;
}

/** The follower's pace without a monitor: the default poll interval (a number: the monitor is on by default). */
const DEFAULT_POLL_MS = DEFAULTS.replicas.pollIntervalMs as number;

export type HedgeSettings = Resolved<typeof DEFAULTS.replicas.hedge>;
export type ConsistencySettings = Resolved<typeof DEFAULTS.consistency>;

/** Checks everything `createDb()` was given, so that bad input fails at start-up, not at the first query. */
export function resolveConfig(options: CreateDbOptions<unknown>, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  if (!isPlainObject(options)) {
    throw new ConfigurationError(
      "options",
      `createDb() takes an options object: createDb({ PrismaClient }), got ${show(options)}`,
    );
  }
  refuseUnknownKeys("", options, CREATE_DB_OPTIONS);
  if (typeof options.PrismaClient !== "function") {
    throw new ConfigurationError(
      "PrismaClient",
      "is required: pass the class `prisma generate` made, e.g. createDb({ PrismaClient }) with " +
        'import { PrismaClient } from "./generated/prisma/client"',
    );
  }

  const urls = resolveUrls(options, env);
  const clientOptions = readOverrideOption<ClientOptionsOption>("clientOptions", options.clientOptions);
  const pool = readOverrideOption<PoolOption>("pool", options.pool);
  const replicas = RULES.replicas.read("replicas", options.replicas, DEFAULTS.replicas);
  const { pollIntervalMs, maxLagMs, maxLagBytes, strict } = replicas;
  const logger = readLogger(options.logger);
  const tracing = RULES.tracing("tracing", options.tracing ?? DEFAULTS.tracing);
  const lifecycle = resolveLifecycleOptions(options, env);
  const resilience = resolveResilience(options);
  const consistency = resolveConsistency(options.consistency, pollIntervalMs !== false, urls.replicas.length > 0);
  // The follower asks as often as the monitor polls; without a monitor, at the default pace.
  const poll = pollIntervalMs === false ? DEFAULT_POLL_MS : pollIntervalMs;
  const probeTimeoutMs = Math.min(5000, Math.max(1000, 2 * poll));
  // The server stops a statement at the tightest bound: its statement_timeout. Last: the `pool`
  // and `clientOptions` functions are called only once everything else is known to be right.
  const statementBoundMs = tightestBound(
    resilience.queryTimeoutMs,
    resilience.breaker === false ? false : resilience.breaker.timeout,
  );
  const reads = RULES.reads("reads", options.reads ?? DEFAULTS.reads);
  const zones = resolveReplicaZones(urls.replicas, replicas.zones, env);
  const nodes = resolveNodes(urls, { pool, clientOptions }, statementBoundMs, zones);
  return {
    ...urls,
    nodes,
    timesQueries: replicas.select === "fastest" || typeof replicas.select === "function",
    logger,
    tracing,
    reads,
    preferZone: replicas.preferZone,
    select: replicas.select,
    fallbackToPrimary: replicas.fallbackToPrimary,
    // Hedging races two replicas.
    hedge: replicas.hedge === false || urls.replicas.length < 2 ? undefined : replicas.hedge,
    lifecycle,
    resilience,
    monitor:
      pollIntervalMs === false
        ? undefined
        : {
            pollIntervalMs,
            maxLagMs: maxLagMs === false ? undefined : maxLagMs,
            maxLagBytes: maxLagBytes === false ? undefined : maxLagBytes,
            strict,
            probeTimeoutMs: lifecycle.health.timeoutMs,
          },
    follower: {
      candidates: nodes.candidates,
      discoverAtStart: urls.primaryCandidates.length > 1,
      probeTimeoutMs,
      cooldownMs: Math.min(1000, poll / 2),
      retryMs: poll,
    },
    consistency,
  };
}

/**
 * `consistency`: `"lsn"` by default, `"session"` when the monitor is off (lsn needs it to know
 * how far each replica has replayed), `"off"` without replicas or when turned off.
 */
function resolveConsistency(value: unknown, monitored: boolean, replicated: boolean): ConsistencySettings {
  const defaults = monitored ? DEFAULTS.consistency : { ...DEFAULTS.consistency, readYourWrites: "session" as const };
  const given = RULES.consistency.read("consistency", value, defaults);
  if (given === false) return { ...DEFAULTS.consistency, readYourWrites: "off" };
  if (given.readYourWrites === "lsn" && !monitored) {
    throw new ConfigurationError(
      "consistency.readYourWrites",
      '"lsn" needs the replica monitor to know how far each replica has replayed, and replicas.pollIntervalMs ' +
        'is false: turn the monitor on, or use "session"',
    );
  }
  return replicated ? given : { ...given, readYourWrites: "off" };
}

import { ConfigurationError } from "../errors.js";
import { type ConnectionSettings, parseConnectionUrl } from "./connection-url.js";
import { type LifecycleSettings, resolveLifecycleOptions } from "./lifecycle-options.js";
import { readLogger, type SplitLogger } from "./logger-option.js";
import { type ClientOptionsOption, type PoolOption, readOverrideOption } from "./node-overrides.js";
import {
  CREATE_DB_OPTIONS,
  type CreateDbOptions,
  DEFAULT_CONSISTENCY_OPTIONS,
  DEFAULT_REPLICA_OPTIONS,
  type ReadYourWrites,
  type ReplicaSelector,
  SELECTION_STRATEGIES,
  type SelectionStrategy,
} from "./options.js";
import { type ResolvedResilience, resolveResilience } from "./resolve-resilience.js";
import {
  isPlainObject,
  readBoolean,
  readGroup,
  readNumber,
  readOneOf,
  refuseUnknownKeys,
  show,
  timerRule,
  withDefaults,
} from "./validate.js";

/** `createDb()`'s options, checked and with every default filled in. */
export interface ResolvedConfig {
  readonly primary: ConnectionSettings;
  readonly replicas: readonly ConnectionSettings[];
  /** PrismaClient options: the same for every node, or a function of the node (config/node-overrides.ts). */
  readonly clientOptions: ClientOptionsOption | undefined;
  /** `pg` settings merged over each node's URL; undefined: the URL alone. */
  readonly pool: PoolOption | undefined;
  /** Where state changes are logged; undefined: nowhere. */
  readonly logger: SplitLogger | undefined;
  /** `tracing` as given (checked): `false`, `true` or `{ tracer }`. */
  readonly tracing: boolean | { readonly tracer?: unknown };
  /** How reads pick a replica: a built-in strategy's name or the user's function. */
  readonly select: SelectionStrategy | ReplicaSelector;
  readonly fallbackToPrimary: boolean;
  /** Shutdown, metrics, health and pool-check settings. */
  readonly lifecycle: LifecycleSettings;
  /** Breakers, retries, bulkheads and time bounds. */
  readonly resilience: ResolvedResilience;
  /** The replica monitor's settings; undefined when `replicas.pollIntervalMs` is `false`. */
  readonly monitor: MonitorSettings | undefined;
  readonly consistency: ConsistencySettings;
}

export interface MonitorSettings {
  readonly pollIntervalMs: number;
  readonly maxLagMs: number | undefined;
  readonly maxLagBytes: number | undefined;
  readonly strict: boolean;
}

export interface ConsistencySettings {
  readonly readYourWrites: ReadYourWrites;
  readonly stickyMs: number;
}

const READ_YOUR_WRITES_MODES: readonly ReadYourWrites[] = ["off", "session", "lsn"];

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
  const replicaOptions = resolveReplicaOptions(options.replicas);
  return {
    ...urls,
    clientOptions,
    pool,
    logger: readLogger(options.logger),
    tracing: readTracing(options.tracing),
    ...replicaOptions,
    lifecycle: resolveLifecycleOptions(options, env),
    resilience: resolveResilience(options),
    consistency: resolveConsistency(options.consistency, replicaOptions.monitor !== undefined),
  };
}

/** The primary's and the replicas' connection strings; two URLs that reach the same database are refused. */
function resolveUrls(
  options: CreateDbOptions<unknown>,
  env: NodeJS.ProcessEnv,
): Pick<ResolvedConfig, "primary" | "replicas"> {
  const primary = resolvePrimaryUrl(options.primaryUrl, env);
  const replicaSource = options.replicaUrls === undefined ? "DATABASE_REPLICA_URLS" : "replicaUrls";
  const replicas = listReplicaUrls(
    options.replicaUrls === undefined ? env.DATABASE_REPLICA_URLS : options.replicaUrls,
    replicaSource,
  ).map((url, index) => parseConnectionUrl(url, `${replicaSource}[${index}]`));
  const seen = new Map<string, string>([[primary.identity, "the primary URL"]]);
  replicas.forEach((replica, index) => {
    const earlier = seen.get(replica.identity);
    if (earlier !== undefined) {
      throw new ConfigurationError(
        `${replicaSource}[${index}]`,
        `reaches the same server and database as ${earlier} (${replica.redactedUrl}); ` +
          "a replica must be a separate streaming standby",
      );
    }
    seen.set(replica.identity, `${replicaSource}[${index}]`);
  });
  return { primary, replicas };
}

/** `replicas`: how reads pick a replica, and the replica monitor (undefined when `pollIntervalMs` is `false`). */
function resolveReplicaOptions(value: unknown): Pick<ResolvedConfig, "select" | "fallbackToPrimary" | "monitor"> {
  const given = withDefaults(
    DEFAULT_REPLICA_OPTIONS,
    readGroup("replicas", value, Object.keys(DEFAULT_REPLICA_OPTIONS)),
  );
  const fallbackToPrimary = readBoolean("replicas.fallbackToPrimary", given.fallbackToPrimary);
  const pollIntervalMs = readNumber("replicas.pollIntervalMs", given.pollIntervalMs, { ...timerRule(10), off: true });
  const maxLagMs = readNumber("replicas.maxLagMs", given.maxLagMs, { ...timerRule(1), off: true });
  const maxLagBytes = readNumber("replicas.maxLagBytes", given.maxLagBytes, { min: 1, integer: true, off: true });
  const strict = readBoolean("replicas.strict", given.strict);
  return {
    select: readSelect(given.select),
    fallbackToPrimary,
    monitor:
      pollIntervalMs === false
        ? undefined
        : {
            pollIntervalMs,
            maxLagMs: maxLagMs === false ? undefined : maxLagMs,
            maxLagBytes: maxLagBytes === false ? undefined : maxLagBytes,
            strict,
          },
  };
}

/**
 * `primaryUrl`, else `DATABASE_URL`. Only a missing option falls back to the variable: `null`
 * or a number given as `primaryUrl` is refused under that name.
 */
function resolvePrimaryUrl(option: unknown, env: NodeJS.ProcessEnv): ConnectionSettings {
  const setting = option === undefined ? "DATABASE_URL" : "primaryUrl";
  const url = option === undefined ? env.DATABASE_URL : option;
  if (url === undefined || (typeof url === "string" && url.trim() === "")) {
    throw new ConfigurationError("primaryUrl", "is missing: pass `primaryUrl` or set DATABASE_URL");
  }
  return parseConnectionUrl(url, setting);
}

function resolveConsistency(value: unknown, monitored: boolean): ConsistencySettings {
  const given = readGroup("consistency", value, Object.keys(DEFAULT_CONSISTENCY_OPTIONS), { off: true });
  if (given === false) return { readYourWrites: "off", stickyMs: DEFAULT_CONSISTENCY_OPTIONS.stickyMs };
  const readYourWrites = readOneOf(
    "consistency.readYourWrites",
    given.readYourWrites ?? (monitored ? DEFAULT_CONSISTENCY_OPTIONS.readYourWrites : "session"),
    READ_YOUR_WRITES_MODES,
  );
  if (readYourWrites === "lsn" && !monitored) {
    throw new ConfigurationError(
      "consistency.readYourWrites",
      '"lsn" needs the replica monitor to know how far each replica has replayed, and replicas.pollIntervalMs ' +
        'is false: turn the monitor on, or use "session"',
    );
  }
  const stickyMs = readNumber(
    "consistency.stickyMs",
    given.stickyMs ?? DEFAULT_CONSISTENCY_OPTIONS.stickyMs,
    timerRule(),
  );
  return { readYourWrites, stickyMs };
}

/** `replicas.select`: a built-in strategy's name (default round-robin) or the user's own function. */
function readSelect(select: unknown): SelectionStrategy | ReplicaSelector {
  if (select === undefined) return DEFAULT_REPLICA_OPTIONS.select;
  if (typeof select === "function") return select as ReplicaSelector;
  if (typeof select === "string" && (SELECTION_STRATEGIES as readonly string[]).includes(select)) {
    return select as SelectionStrategy;
  }
  throw new ConfigurationError(
    "replicas.select",
    `must be one of ${SELECTION_STRATEGIES.map((name) => `"${name}"`).join(", ")} or a function, got ${JSON.stringify(select)}`,
  );
}

/** `replicaUrls` (an array, or one comma-separated string) or `DATABASE_REPLICA_URLS`, as a list. */
function listReplicaUrls(value: unknown, setting: string): unknown[] {
  if (value === undefined) return [];
  if (typeof value === "string") {
    return value
      .split(",")
      .map((url) => url.trim())
      .filter((url) => url !== "");
  }
  if (!Array.isArray(value)) {
    throw new ConfigurationError(
      setting,
      `must be an array of connection strings or a comma-separated string, got ${show(value)}`,
    );
  }
  return [...value];
}

function readTracing(value: unknown): ResolvedConfig["tracing"] {
  if (value === undefined) return true;
  if (typeof value === "boolean") return value;
  const given = readGroup("tracing", value, ["tracer"]);
  const tracer = (given as { tracer?: unknown }).tracer;
  if (tracer !== undefined && typeof (tracer as { startSpan?: unknown }).startSpan !== "function") {
    throw new ConfigurationError(
      "tracing.tracer",
      `must be an OpenTelemetry Tracer (with startSpan), got ${show(tracer)}`,
    );
  }
  return tracer === undefined ? true : { tracer };
}

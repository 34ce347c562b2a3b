import { ConfigurationError } from "../errors.js";
import { type ConnectionSettings, parseConnectionUrl } from "./connection-url.js";
import { splitHosts } from "./host-list.js";
import { type LifecycleSettings, resolveLifecycleOptions } from "./lifecycle-options.js";
import { readLogger, type SplitLogger } from "./logger-option.js";
import { type ClientOptionsOption, type PoolOption, readOverrideOption } from "./node-overrides.js";
import {
  CREATE_DB_OPTIONS,
  type CreateDbOptions,
  DEFAULT_CONSISTENCY_OPTIONS,
  DEFAULT_HEDGE_OPTIONS,
  DEFAULT_REPLICA_OPTIONS,
  type ReadYourWrites,
  type ReplicaSelector,
  SELECTION_STRATEGIES,
  type SelectionStrategy,
} from "./options.js";
import { redactUrl } from "./redact.js";
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
  /** The primary URL's first host: where writes go until the roles are known. */
  readonly primary: ConnectionSettings;
  /**
   * Every host the primary URL lists, in its order (one for a single-host URL): the servers
   * prisma-split asks which one accepts writes.
   */
  readonly primaryCandidates: readonly ConnectionSettings[];
  /** One per replica host: `replicaUrls` / `DATABASE_REPLICA_URLS`, else a multi-host primary URL's hosts. */
  readonly replicas: readonly ConnectionSettings[];
  /** The replicas are a multi-host primary URL's hosts (one of them is the writer and takes no reads). */
  readonly replicasFromPrimaryUrl: boolean;
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
  /** Hedged reads; undefined when off (the default). */
  readonly hedge: HedgeSettings | undefined;
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

export interface HedgeSettings {
  /** ms before a read is hedged, or `"p95"` of recent hedgeable reads. */
  readonly afterMs: number | "p95";
  readonly maxExtraRatio: number;
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

/**
 * The primary's and the replicas' connection strings, one per host; two replicas that reach the
 * same database are refused, and so is a replica that is a single-host primary URL's server. A
 * multi-host primary URL's hosts may also be listed as replicas: one of them is the writer.
 */
function resolveUrls(
  options: CreateDbOptions<unknown>,
  env: NodeJS.ProcessEnv,
): Pick<ResolvedConfig, "primary" | "primaryCandidates" | "replicas" | "replicasFromPrimaryUrl"> {
  const primaryCandidates = resolvePrimaryUrls(options.primaryUrl, env);
  const primary = primaryCandidates[0] as ConnectionSettings;
  const replicaSource = options.replicaUrls === undefined ? "DATABASE_REPLICA_URLS" : "replicaUrls";
  const given = listReplicaUrls(
    options.replicaUrls === undefined ? env.DATABASE_REPLICA_URLS : options.replicaUrls,
    replicaSource,
  ).flatMap((url, index) => {
    const setting = `${replicaSource}[${index}]`;
    if (typeof url !== "string") return [parseConnectionUrl(url, setting)];
    return splitHosts(url.trim(), setting, "replica").urls.map((one) => parseConnectionUrl(one, setting));
  });
  if (given.length === 0 && primaryCandidates.length > 1) {
    return { primary, primaryCandidates, replicas: primaryCandidates, replicasFromPrimaryUrl: true };
  }
  const seen = new Map<string, string>(primaryCandidates.length === 1 ? [[primary.identity, "the primary URL"]] : []);
  given.forEach((replica, index) => {
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
  return { primary, primaryCandidates, replicas: given, replicasFromPrimaryUrl: false };
}

/** `replicas`: how reads pick a replica, and the replica monitor (undefined when `pollIntervalMs` is `false`). */
function resolveReplicaOptions(
  value: unknown,
): Pick<ResolvedConfig, "select" | "fallbackToPrimary" | "monitor" | "hedge"> {
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
    hedge: readHedge(given.hedge),
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
function resolvePrimaryUrls(option: unknown, env: NodeJS.ProcessEnv): ConnectionSettings[] {
  const setting = option === undefined ? "DATABASE_URL" : "primaryUrl";
  const url = option === undefined ? env.DATABASE_URL : option;
  if (url === undefined || (typeof url === "string" && url.trim() === "")) {
    throw new ConfigurationError("primaryUrl", "is missing: pass `primaryUrl` or set DATABASE_URL");
  }
  if (typeof url !== "string") return [parseConnectionUrl(url, setting)];
  const candidates = splitHosts(url.trim(), setting, "primary").urls.map((one) => parseConnectionUrl(one, setting));
  const identities = new Set(candidates.map((candidate) => candidate.identity));
  if (identities.size !== candidates.length) {
    throw new ConfigurationError(setting, `lists the same server twice: ${redactUrl(url)}`);
  }
  return candidates;
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

/** `replicas.hedge`: `false` (the default) or `{ afterMs, maxExtraRatio }`. */
function readHedge(value: unknown): HedgeSettings | undefined {
  const given = readGroup("replicas.hedge", value ?? false, Object.keys(DEFAULT_HEDGE_OPTIONS), { off: true });
  if (given === false) return undefined;
  const { afterMs, maxExtraRatio } = withDefaults(DEFAULT_HEDGE_OPTIONS, given);
  if (afterMs !== "p95" && typeof afterMs !== "number") {
    throw new ConfigurationError(
      "replicas.hedge.afterMs",
      `must be a number of milliseconds or "p95", got ${show(afterMs)}`,
    );
  }
  return {
    afterMs: afterMs === "p95" ? "p95" : readNumber("replicas.hedge.afterMs", afterMs, timerRule(1)),
    maxExtraRatio: readNumber("replicas.hedge.maxExtraRatio", maxExtraRatio, { above: 0, max: 1 }),
  };
}

/** `replicas.select`: a built-in strategy's name (default "fastest") or the user's own function. */
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

/**
 * `replicaUrls` (an array, or one comma-separated string) or `DATABASE_REPLICA_URLS`, as a list.
 * Commas in a URL's host part list the hosts of one multi-host URL; elsewhere a comma starts the
 * next URL, except in a query (`?host=a,b`) where only a comma followed by `postgres://` or
 * `postgresql://` does: `postgresql://u@r1,r2/db,postgresql://u@r3/db` is two URLs, three replicas.
 */
function listReplicaUrls(value: unknown, setting: string): unknown[] {
  if (value === undefined) return [];
  if (typeof value === "string") {
    return splitUrlList(value)
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

const NEXT_URL = /^\s*postgres(?:ql)?:\/\//i;

function splitUrlList(text: string): string[] {
  const urls: string[] = [];
  let start = 0;
  let part: "scheme" | "authority" | "path" | "query" = "scheme";
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (part === "scheme" && text.startsWith("//", index)) {
      part = "authority";
      index++;
    } else if (part === "authority" && (char === "/" || char === "?" || char === "#")) {
      part = char === "?" ? "query" : "path";
    } else if (part === "path" && char === "?") {
      part = "query";
    } else if (char === "," && part !== "authority" && (part !== "query" || NEXT_URL.test(text.slice(index + 1)))) {
      urls.push(text.slice(start, index));
      start = index + 1;
      part = "scheme";
    }
  }
  urls.push(text.slice(start));
  return urls;
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

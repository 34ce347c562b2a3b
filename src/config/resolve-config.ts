import { ConfigurationError } from "../errors.js";
import { type ConnectionSettings, parseConnectionUrl } from "./connection-url.js";
import { type LifecycleSettings, resolveLifecycleOptions } from "./lifecycle-options.js";
import {
  type CreateDbOptions,
  DEFAULT_CONSISTENCY_OPTIONS,
  DEFAULT_REPLICA_OPTIONS,
  type ReadYourWrites,
  type ReplicaSelector,
  SELECTION_STRATEGIES,
  type SelectionStrategy,
} from "./options.js";
import { type ResolvedResilience, resolveResilience } from "./resolve-resilience.js";

/** `createDb()`'s options, checked and with every default filled in. */
export interface ResolvedConfig {
  readonly primary: ConnectionSettings;
  readonly replicas: readonly ConnectionSettings[];
  readonly clientOptions: Readonly<Record<string, unknown>>;
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
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

/** Checks everything `createDb()` was given, so that bad input fails at start-up, not at the first query. */
export function resolveConfig(options: CreateDbOptions<unknown>, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError("options", "createDb() takes an options object: createDb({ PrismaClient })");
  }
  if (typeof options.PrismaClient !== "function") {
    throw new ConfigurationError(
      "PrismaClient",
      "is required: pass the class `prisma generate` made, e.g. createDb({ PrismaClient }) with " +
        'import { PrismaClient } from "./generated/prisma/client"',
    );
  }

  const primaryUrl = options.primaryUrl ?? env.DATABASE_URL;
  if (primaryUrl === undefined || primaryUrl.trim() === "") {
    throw new ConfigurationError("primaryUrl", "is missing: pass `primaryUrl` or set DATABASE_URL");
  }
  const primary = parseConnectionUrl(primaryUrl, options.primaryUrl === undefined ? "DATABASE_URL" : "primaryUrl");

  const replicaSource = options.replicaUrls === undefined ? "DATABASE_REPLICA_URLS" : "replicaUrls";
  const replicas = listReplicaUrls(options.replicaUrls ?? env.DATABASE_REPLICA_URLS).map((url, index) =>
    parseConnectionUrl(url, `${replicaSource}[${index}]`),
  );
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

  if (
    options.clientOptions !== undefined &&
    (typeof options.clientOptions !== "object" || options.clientOptions === null)
  ) {
    throw new ConfigurationError("clientOptions", "must be an object of PrismaClient options");
  }
  if (options.clientOptions && "adapter" in options.clientOptions) {
    throw new ConfigurationError("clientOptions.adapter", "is set by prisma-split (one PrismaPg per node): remove it");
  }
  const replicaOptions = { ...DEFAULT_REPLICA_OPTIONS, ...options.replicas };
  if (typeof replicaOptions.fallbackToPrimary !== "boolean") {
    throw new ConfigurationError(
      "replicas.fallbackToPrimary",
      `must be true or false, got ${String(replicaOptions.fallbackToPrimary)}`,
    );
  }

  const given = options.replicas ?? {};
  const defaults = DEFAULT_REPLICA_OPTIONS;
  const strict = given.strict ?? defaults.strict;
  if (typeof strict !== "boolean") {
    throw new ConfigurationError("replicas.strict", `must be true or false, got ${String(strict)}`);
  }
  const pollIntervalMs = readBound("replicas.pollIntervalMs", given.pollIntervalMs ?? defaults.pollIntervalMs, {
    min: 10,
  });
  const monitor =
    pollIntervalMs === undefined
      ? undefined
      : {
          pollIntervalMs,
          maxLagMs: readBound("replicas.maxLagMs", given.maxLagMs ?? defaults.maxLagMs, { min: 1 }),
          maxLagBytes: readBound("replicas.maxLagBytes", given.maxLagBytes ?? defaults.maxLagBytes, {
            min: 1,
            integer: true,
          }),
          strict,
        };

  return {
    primary,
    replicas,
    clientOptions: { ...options.clientOptions },
    select: checkSelect(replicaOptions.select),
    fallbackToPrimary: replicaOptions.fallbackToPrimary,
    lifecycle: resolveLifecycleOptions(options, env),
    resilience: resolveResilience(options),
    monitor,
    consistency: resolveConsistency(options.consistency, monitor !== undefined),
  };
}

function resolveConsistency(value: CreateDbOptions<unknown>["consistency"], monitored: boolean): ConsistencySettings {
  if (value === false) return { readYourWrites: "off", stickyMs: DEFAULT_CONSISTENCY_OPTIONS.stickyMs };
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new ConfigurationError(
      "consistency",
      `must be an object ({ readYourWrites, stickyMs }) or false, got ${JSON.stringify(value)}`,
    );
  }
  const readYourWrites = value?.readYourWrites ?? (monitored ? DEFAULT_CONSISTENCY_OPTIONS.readYourWrites : "session");
  if (!READ_YOUR_WRITES_MODES.includes(readYourWrites)) {
    throw new ConfigurationError(
      "consistency.readYourWrites",
      `must be one of ${READ_YOUR_WRITES_MODES.map((mode) => `"${mode}"`).join(", ")}, got ${JSON.stringify(readYourWrites)}`,
    );
  }
  if (readYourWrites === "lsn" && !monitored) {
    throw new ConfigurationError(
      "consistency.readYourWrites",
      '"lsn" needs the replica monitor to know how far each replica has replayed, and replicas.pollIntervalMs ' +
        'is false: turn the monitor on, or use "session"',
    );
  }
  const stickyMs = value?.stickyMs ?? DEFAULT_CONSISTENCY_OPTIONS.stickyMs;
  if (typeof stickyMs !== "number" || !Number.isFinite(stickyMs) || stickyMs < 0 || stickyMs > MAX_TIMER_MS) {
    throw new ConfigurationError(
      "consistency.stickyMs",
      `must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${JSON.stringify(stickyMs)}`,
    );
  }
  return { readYourWrites, stickyMs };
}

/** A positive bound that `false` turns off (undefined). */
function readBound(setting: string, value: unknown, rule: { min: number; integer?: boolean }): number | undefined {
  if (value === false) return undefined;
  const valid =
    typeof value === "number" &&
    Number.isFinite(value) &&
    value >= rule.min &&
    value <= (rule.integer ? Number.MAX_SAFE_INTEGER : MAX_TIMER_MS) &&
    (!rule.integer || Number.isInteger(value));
  if (!valid) {
    const kind = rule.integer ? "an integer" : "a number";
    throw new ConfigurationError(
      setting,
      `must be ${kind} ≥ ${rule.min}, or false to turn it off; got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkSelect(select: unknown): SelectionStrategy | ReplicaSelector {
  if (typeof select === "function") return select as ReplicaSelector;
  if (typeof select === "string" && (SELECTION_STRATEGIES as readonly string[]).includes(select)) {
    return select as SelectionStrategy;
  }
  throw new ConfigurationError(
    "replicas.select",
    `must be one of ${SELECTION_STRATEGIES.map((name) => `"${name}"`).join(", ")} or a function, got ${JSON.stringify(select)}`,
  );
}

function listReplicaUrls(value: readonly string[] | string | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === "string") {
    return value
      .split(",")
      .map((url) => url.trim())
      .filter((url) => url !== "");
  }
  if (!Array.isArray(value)) {
    throw new ConfigurationError("replicaUrls", "must be an array of connection strings or a comma-separated string");
  }
  return [...value];
}

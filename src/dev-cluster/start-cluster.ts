import { ConfigurationError } from "../errors.js";
import { type EmbeddedCluster, startEmbeddedCluster, stopEmbeddedClusters } from "./cluster.js";
import { applyMigrations } from "./migrate.js";
import { planCluster, type StartClusterOptions } from "./options.js";
import { busyPorts, consecutivePorts, findFreePorts } from "./ports.js";
import { sweepOrphanedClusters } from "./sweep.js";
import { startContainerCluster, stopContainerClusters } from "./testcontainers/container-cluster.js";
import type { DevCluster } from "./types.js";

/** How often a cluster on ports of our own choosing is started again when one was taken meanwhile. */
const PORT_ATTEMPTS = 3;

function isPortTaken(error: unknown): boolean {
  return /address already in use|could not bind|could not create any TCP\/IP sockets|port is already allocated/i.test(
    String((error as Error)?.message ?? error),
  );
}

async function choosePorts(first: number | undefined, count: number): Promise<number[]> {
  if (first === undefined) return findFreePorts(count);
  const ports = consecutivePorts(first, count);
  const busy = await busyPorts(ports);
  if (busy.length > 0) {
    throw new ConfigurationError(
      "port",
      `port${busy.length > 1 ? "s" : ""} ${busy.join(", ")} already in use (the cluster needs ${ports.join(", ")}); ` +
        "choose another port, or let the cluster pick free ones (no port option; `--port 0` on the command line).",
    );
  }
  return ports;
}

/**
 * Starts a PostgreSQL primary with `replicas` streaming replicas, applies the migrations of
 * `<cwd>/prisma/migrations` (if any) and waits until every replica has replayed them.
 * The backend is `options.backend`, else the TEST_CLUSTER environment variable, else "embedded".
 *
 * @example
 * import { startCluster } from "prisma-split/dev-cluster";
 *
 * const cluster = await startCluster({ replicas: 2 });
 * process.env.DATABASE_URL = cluster.primaryUrl;
 * process.env.DATABASE_REPLICA_URLS = cluster.replicaUrls.join(",");
 * // ... and when done:
 * await cluster.stop();
 */
export async function startCluster(options: StartClusterOptions & { backend: "embedded" }): Promise<EmbeddedCluster>;
export async function startCluster(options?: StartClusterOptions): Promise<DevCluster>;
export async function startCluster(options: StartClusterOptions = {}): Promise<DevCluster> {
  const plan = planCluster(options);
  // Servers left by a process that died without stopping them (SIGKILL, a killed test worker) may hold our ports.
  if (plan.backend === "embedded") sweepOrphanedClusters();
  const start = async () => {
    const ports = await choosePorts(plan.port, 1 + plan.replicas);
    return plan.backend === "embedded"
      ? await startEmbeddedCluster({ ports, database: plan.database, binDir: plan.binDir, baseDir: plan.baseDir })
      : await startContainerCluster({ ports, database: plan.database, image: plan.image });
  };
  let cluster: DevCluster | undefined;
  for (let attempt = 1; cluster === undefined; attempt++) {
    try {
      cluster = await start();
    } catch (error) {
      // A port that was free when we picked it can be taken before the server binds it (an
      // outgoing connection's ephemeral port, a parallel test worker): pick again, a few times.
      if (plan.port !== undefined || attempt >= PORT_ATTEMPTS || !isPortTaken(error)) throw error;
    }
  }
  try {
    if (plan.migrationsDir !== undefined) {
      await applyMigrations(cluster.primaryUrl, plan.migrationsDir);
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
  await Promise.all([stopEmbeddedClusters(), stopContainerClusters()]);
}

import type { StartedNetwork, StartedTestContainer } from "testcontainers";
import { ReplicatedCluster } from "../replicated-cluster.js";
import { waitUntilAcceptingQueries } from "../replication.js";
import { nodeUrl } from "../sql.js";
import {
  containerPort,
  postgresCommand,
  primaryAlias,
  primaryEnvironment,
  readyLogLine,
  replicaStartScript,
  replicationHbaScript,
  replicationHbaScriptPath,
} from "./container-config.js";
import { ContainerNode } from "./container-node.js";
import { isNoContainerRuntime, loadTestcontainers, noContainerRuntimeError } from "./load-testcontainers.js";

export interface ContainerClusterOptions {
  /** Host ports: the primary's first, then one per replica. Fixed up front, so restarts keep every URL. */
  ports: readonly number[];
  database: string;
  /** e.g. "postgres:18". */
  image: string;
}

const startupTimeoutMs = 120_000;
const liveClusters = new Set<ContainerCluster>();

/** A primary container and replica containers on one Docker network of their own. */
export class ContainerCluster extends ReplicatedCluster<ContainerNode> {
  readonly backend = "testcontainers";

  constructor(
    primary: ContainerNode,
    replicas: readonly ContainerNode[],
    private readonly containers: readonly StartedTestContainer[],
    private readonly network: StartedNetwork,
  ) {
    super(primary, replicas);
  }

  protected async tearDown(): Promise<void> {
    await removeAll(this.containers, this.network);
    liveClusters.delete(this);
  }

  protected logHint(node: ContainerNode): string {
    return `docker logs ${node.containerId}`;
  }

  protected primaryConninfo(): string {
    throw new Error("switchover() and failover() run on the embedded backend only for now");
  }

  protected followPrimary(): Promise<void> {
    return Promise.reject(new Error("switchover() and failover() run on the embedded backend only for now"));
  }
}

/** Removes the containers (stopped or not) with their volumes, then the network. */
async function removeAll(containers: readonly StartedTestContainer[], network: StartedNetwork): Promise<void> {
  await Promise.allSettled(containers.map((c) => c.stop({ timeout: 0, remove: true, removeVolumes: true })));
  await network.stop();
}

/**
 * Starts `postgres` containers: a primary (replication settings, a pg_hba rule for replication),
 * then replicas that take a base backup of it over the network and stream from it. When this
 * process dies without stop(), testcontainers' reaper (Ryuk) removes them.
 */
export async function startContainerCluster(options: ContainerClusterOptions): Promise<ContainerCluster> {
  const tc = await loadTestcontainers();
  const [primaryPort, ...replicaPorts] = options.ports as [number, ...number[]];
  let client: Awaited<ReturnType<typeof tc.getContainerRuntimeClient>>;
  let network: StartedNetwork;
  try {
    client = await tc.getContainerRuntimeClient();
    network = await new tc.Network().start();
  } catch (error) {
    throw isNoContainerRuntime(error) ? noContainerRuntimeError(error) : error;
  }
  const containers: StartedTestContainer[] = [];
  const node = (name: string, role: "primary" | "replica", port: number, started: StartedTestContainer) =>
    new ContainerNode({ name, role, port, url: nodeUrl(started.getHost(), port, options.database), started, client });

  try {
    const primaryContainer = await new tc.GenericContainer(options.image)
      .withNetwork(network)
      .withNetworkAliases(primaryAlias)
      .withEnvironment(primaryEnvironment(options.database))
      .withCopyContentToContainer([{ content: replicationHbaScript, target: replicationHbaScriptPath, mode: 0o755 }])
      .withCommand(postgresCommand())
      .withExposedPorts({ container: containerPort, host: primaryPort })
      .withWaitStrategy(tc.Wait.forLogMessage(readyLogLine.primary.pattern, readyLogLine.primary.times))
      .withStartupTimeout(startupTimeoutMs)
      .start();
    containers.push(primaryContainer);
    const primary = node("primary", "primary", primaryPort, primaryContainer);
    await waitUntilAcceptingQueries(primary, startupTimeoutMs);

    const replicas = await Promise.all(
      replicaPorts.map(async (port, i) => {
        const name = `replica-${i}`;
        const started = await new tc.GenericContainer(options.image)
          .withNetwork(network)
          .withUser("postgres")
          .withEntrypoint(["bash", "-c", replicaStartScript(name)])
          .withExposedPorts({ container: containerPort, host: port })
          .withWaitStrategy(tc.Wait.forLogMessage(readyLogLine.replica.pattern, readyLogLine.replica.times))
          .withStartupTimeout(startupTimeoutMs)
          .start();
        containers.push(started);
        const replica = node(name, "replica", port, started);
        await waitUntilAcceptingQueries(replica, startupTimeoutMs);
        return replica;
      }),
    );
    const cluster = new ContainerCluster(primary, replicas, containers, network);
    liveClusters.add(cluster);
    return cluster;
  } catch (error) {
    await removeAll(containers, network).catch(() => {});
    throw error;
  }
}

/** Stops every container cluster this process started and has not stopped yet. */
export async function stopContainerClusters(): Promise<void> {
  await Promise.all([...liveClusters].map((cluster) => cluster.stop()));
}

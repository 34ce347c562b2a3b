import { waitForReplayPaused, waitUntilReplicasCaughtUp } from "./replication.js";
import type { ClusterBackend, DevCluster, DevNode } from "./types.js";

/**
 * What both backends share: replication is observed and steered with plain SQL, so pausing
 * replay or waiting for replicas works the same on local processes and on containers.
 */
export abstract class ReplicatedCluster<Node extends DevNode> implements DevCluster<Node> {
  abstract readonly backend: ClusterBackend;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly primary: Node,
    readonly replicas: readonly Node[],
  ) {}

  get nodes(): Node[] {
    return [this.primary, ...this.replicas];
  }

  get primaryUrl(): string {
    return this.primary.url;
  }

  get replicaUrls(): string[] {
    return this.replicas.map((replica) => replica.url);
  }

  async pauseReplay(replica: Node, timeoutMs = 10_000): Promise<void> {
    this.assertReplica(replica);
    await replica.query("SELECT pg_wal_replay_pause()");
    await waitForReplayPaused(replica, timeoutMs);
  }

  async resumeReplay(replica: Node): Promise<void> {
    this.assertReplica(replica);
    await replica.query("SELECT pg_wal_replay_resume()");
  }

  waitForReplicas(timeoutMs = 10_000): Promise<void> {
    return waitUntilReplicasCaughtUp(this.primary, this.replicas, timeoutMs, (node) => this.logHint(node as Node));
  }

  stop(): Promise<void> {
    this.stopping ??= this.tearDown();
    return this.stopping;
  }

  /** Stops every node and removes what the cluster created; called once, by stop(). */
  protected abstract tearDown(): Promise<void>;

  /** Where to read `node`'s server log, for error messages. */
  protected abstract logHint(node: Node): string;

  private assertReplica(node: Node): void {
    if (!this.replicas.includes(node)) throw new Error(`${node.name} is not a replica of this cluster.`);
  }
}

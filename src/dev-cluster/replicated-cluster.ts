import { promote, repoint, waitUntilStreaming } from "./promotion.js";
import { waitForReplayPaused, waitUntilReplicasCaughtUp } from "./replication.js";
import type { ClusterBackend, DevCluster, DevNode, NodeRole } from "./types.js";

/** A node whose role the cluster changes when it moves the primary. */
export interface RoleBearing {
  role: NodeRole;
}

/**
 * What both backends share: replication is observed and steered with plain SQL, so pausing
 * replay or waiting for replicas works the same on local processes and on containers.
 */
export abstract class ReplicatedCluster<Node extends DevNode & RoleBearing> implements DevCluster<Node> {
  abstract readonly backend: ClusterBackend;
  private stopping: Promise<void> | undefined;
  #primary: Node;
  #replicas: readonly Node[];
  /** When the last promotion ended (`performance.now()`): the new primary took writes from then on. */
  lastPromotionAt: number | undefined;

  constructor(primary: Node, replicas: readonly Node[]) {
    this.#primary = primary;
    this.#replicas = replicas;
  }

  /** The server that takes writes now (another one after `switchover()` / `failover()`). */
  get primary(): Node {
    return this.#primary;
  }

  get replicas(): readonly Node[] {
    return this.#replicas;
  }

  /**
   * A planned switchover, as Patroni does one: waits until `to` has every commit, stops the
   * primary cleanly (its walsenders hand the shutdown checkpoint to the standbys), promotes
   * `to`, points the other standbys at it and starts the old primary as its standby (no rewind
   * needed after a clean stop). Every node keeps its URL; `primary` and `replicas` swap.
   */
  async switchover(to: Node = this.#replicas[0] as Node, timeoutMs = 60_000): Promise<void> {
    const old = this.#primary;
    this.assertReplica(to);
    await this.waitForReplicas(timeoutMs);
    await old.stop("fast");
    await this.#promote(old, to, timeoutMs);
    await this.followPrimary(old, to, "clean");
    await waitUntilStreaming(to, old, timeoutMs);
  }

  /**
   * An unplanned failover: kills the primary (no checkpoint) and promotes `to`. The old primary
   * stays down, listed among the replicas; `rejoin(node)` rebuilds it as a standby of the new primary.
   */
  async failover(to: Node = this.#replicas[0] as Node, timeoutMs = 60_000): Promise<void> {
    const old = this.#primary;
    this.assertReplica(to);
    await old.kill();
    await this.#promote(old, to, timeoutMs);
  }

  /** Rebuilds a stopped former primary (or any replica) from the current primary and starts it as its standby. */
  async rejoin(node: Node, timeoutMs = 60_000): Promise<void> {
    this.assertReplica(node);
    await node.stop("immediate");
    await this.followPrimary(node, this.#primary, "rebuild");
    await waitUntilStreaming(this.#primary, node, timeoutMs);
  }

  async #promote(old: Node, to: Node, timeoutMs: number): Promise<void> {
    await promote(to, timeoutMs);
    this.lastPromotionAt = performance.now();
    this.#primary = to;
    this.#replicas = [...this.#replicas.filter((replica) => replica !== to), old];
    to.role = "primary";
    old.role = "replica";
    const others = this.#replicas.filter((replica) => replica !== old && replica.isRunning());
    await Promise.all(others.map((replica) => repoint(replica, this.primaryConninfo(to, replica))));
  }

  /** What a standby of `primary` puts in `primary_conninfo` (backends reach each other differently). */
  protected abstract primaryConninfo(primary: Node, standby: Node): string;

  /**
   * Makes the stopped `node` a standby of `primary` and starts it: `clean` after a clean stop
   * (its WAL ends where the new timeline begins), `rebuild` from a fresh base backup.
   */
  protected abstract followPrimary(node: Node, primary: Node, mode: "clean" | "rebuild"): Promise<void>;

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

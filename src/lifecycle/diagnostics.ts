import type { NodeRole } from "../errors.js";
import type { GuardBreakerState } from "../resilience/node-guard.js";
import { checkHealth, type HealthReport, type HealthSubject, type NodeHealth } from "./health.js";
import { BUSY_SHARE, type PoolPressure, readPool } from "./pool-pressure.js";
import type { ConnectionPlan } from "./pool-sizing.js";
import { readServerActivity, type ServerActivity } from "./server-activity.js";

/** A pool busy this long is a spell, not a peak. */
export const BUSY_FOR_MS = 10_000;
/** A transaction open this long holds a connection and keeps vacuum from cleaning up. */
export const LONG_TRANSACTION_MS = 60_000;
/** A server with this share of `max_connections` taken is close to refusing logins. */
export const SERVER_FULL_SHARE = 0.9;

/** What diagnostics read of one createDb() (its SplitState). */
export interface DiagnosticsSubject extends HealthSubject {
  readonly poolPressure: PoolPressure;
}

/** One node as `db.$diagnostics()` saw it. URLs never show a password. */
export interface NodeDiagnostics {
  readonly name: string;
  readonly role: NodeRole;
  /** The connection string with the password replaced by `***`. */
  readonly url: string;
  /** `$health()`'s rule: `in-rotation` exactly when `outOfRotation` is empty. */
  readonly state: "in-rotation" | "out-of-rotation";
  readonly outOfRotation: readonly string[];
  readonly reachable: boolean;
  readonly error: string | undefined;
  readonly latencyMs: number | undefined;
  readonly breaker: GuardBreakerState;
  readonly lagMs: number | undefined;
  /** `server_version`, read on a connection of its own; undefined when the server could not be read. */
  readonly serverVersion: string | undefined;
  readonly pool: {
    /** Connections open, idle or in use. */
    readonly size: number;
    readonly max: number;
    readonly idle: number;
    readonly inUse: number;
    /** Queries waiting for a free connection. */
    readonly waiting: number;
    /** How long at least 75 % of `max` has been in use at every reading (once a second); 0 when not. */
    readonly busyForMs: number;
  };
  /** The server's connections and this app's role's sessions; undefined when it could not be read. */
  readonly server: ServerActivity | undefined;
  /** Why the server could not be read. */
  readonly serverError: string | undefined;
  /** This server's connection budget, once the pool check has read `max_connections`. */
  readonly connections: ConnectionPlan | undefined;
}

/** One finding, in plain words, with a stable code to alert on. */
export interface Advice {
  readonly code:
    | "node-down"
    | "breaker-open"
    | "replica-lagging"
    | "pool-waiting"
    | "pool-busy"
    | "connections-exceed-max"
    | "server-connections-high"
    | "long-transaction";
  /** `critical`: requests fail or wait now; `warning`: they will, or run slower. */
  readonly severity: "critical" | "warning";
  /** The node it is about. */
  readonly node: string;
  readonly message: string;
}

export interface DiagnosticsReport {
  readonly status: HealthReport["status"];
  readonly ready: boolean;
  readonly shuttingDown: boolean;
  /** ISO time of the reading. */
  readonly checkedAt: string;
  /** Primary first. */
  readonly nodes: readonly NodeDiagnostics[];
  /** Empty when no threshold is crossed. */
  readonly advice: readonly Advice[];
}

/**
 * `$health()`, and per node its server's activity (read on a connection of its own, outside
 * the pool, within `health.timeoutMs`, also where the pool's probe got no answer), its pool's busy spell, and advice where a threshold is
 * crossed. During shutdown no server is read.
 */
export async function collectDiagnostics(subject: DiagnosticsSubject): Promise<DiagnosticsReport> {
  // The pools as the app left them: the health probes below queue in them too.
  const pools = subject.nodes.map(readPool);
  const now = Date.now();
  const timeoutMs = subject.lifecycle.health.timeoutMs;
  const shuttingDown = subject.shuttingDown;
  const [health, activities] = await Promise.all([
    checkHealth(subject),
    // Read also where the pool's probe gets no answer: a full pool is what an operator asks about.
    Promise.all(
      subject.nodes.map((node) =>
        shuttingDown
          ? { activity: undefined, error: "shutting down" }
          : readServerActivity(node.settings, timeoutMs).then(
              (activity) => ({ activity, error: undefined }),
              (error: unknown) => ({
                activity: undefined,
                error: error instanceof Error ? error.message : String(error),
              }),
            ),
      ),
    ),
  ]);
  const healths = [health.primary, ...health.replicas];
  const nodes = subject.nodes.map((node, index): NodeDiagnostics => {
    const nodeHealth = healths[index] as NodeHealth;
    const { activity, error } = activities[index] as {
      activity: ServerActivity | undefined;
      error: string | undefined;
    };
    const pool = pools[index] as ReturnType<typeof readPool>;
    return {
      name: nodeHealth.name,
      role: nodeHealth.role,
      url: nodeHealth.url,
      state: nodeHealth.inRotation ? "in-rotation" : "out-of-rotation",
      outOfRotation: nodeHealth.outOfRotation,
      reachable: nodeHealth.reachable,
      error: nodeHealth.error,
      latencyMs: nodeHealth.latencyMs,
      breaker: nodeHealth.breaker,
      lagMs: nodeHealth.lagMs,
      serverVersion: activity?.serverVersion,
      pool: {
        size: pool.total,
        max: pool.max,
        idle: pool.idle,
        inUse: pool.inUse,
        waiting: pool.waiting,
        busyForMs: subject.poolPressure.busyForMs(node.name, now),
      },
      server: activity,
      serverError: error,
      connections: nodeHealth.connections,
    };
  });
  return {
    status: health.status,
    ready: health.ready,
    shuttingDown: health.shuttingDown,
    checkedAt: health.checkedAt,
    nodes,
    advice: health.shuttingDown ? [] : advise(nodes),
  };
}

type AdviceInput = Pick<
  NodeDiagnostics,
  | "name"
  | "role"
  | "url"
  | "reachable"
  | "error"
  | "breaker"
  | "outOfRotation"
  | "lagMs"
  | "pool"
  | "server"
  | "connections"
>;

/** The thresholds, apart from any I/O so they can be tested as a table. */
export function advise(nodes: readonly AdviceInput[]): Advice[] {
  const advice: Advice[] = [];
  const budgetsTold = new Set<string>();
  for (const node of nodes) {
    const say = (code: Advice["code"], severity: Advice["severity"], message: string) =>
      advice.push({ code, severity, node: node.name, message });
    const { pool, server, connections } = node;

    // A probe stuck behind a full pool while the server answers is the pool's matter, said below.
    if (!node.reachable && server === undefined) {
      say(
        "node-down",
        node.role === "primary" ? "critical" : "warning",
        node.role === "primary"
          ? `${node.name} does not answer (${node.error}): writes get 503 with Retry-After until it does`
          : `${node.name} does not answer (${node.error}): its reads go to the other replicas or the primary`,
      );
    } else if (node.breaker === "open") {
      say(
        "breaker-open",
        "critical",
        `${node.name}'s circuit breaker is open: calls to it fail fast until its trial call succeeds`,
      );
    }
    if (node.outOfRotation.includes("lagging")) {
      const behind = node.lagMs === undefined ? "" : ` (${(node.lagMs / 1000).toFixed(1)} s behind)`;
      say(
        "replica-lagging",
        "warning",
        `${node.name} lags more than replicas.maxLagMs${behind}: its reads go elsewhere until it catches up`,
      );
    }
    const holder =
      server !== undefined && server.role.longestTransactionMs > 0
        ? `; the oldest open transaction of role ${server.role.name} is ${seconds(server.role.longestTransactionMs)} old`
        : "";
    if (pool.waiting > 0) {
      say(
        "pool-waiting",
        "critical",
        `${pool.waiting} ${pool.waiting === 1 ? "query waits" : "queries wait"} for a connection on ${node.name} ` +
          `(${pool.inUse} of connection_limit=${pool.max} in use${holder}): find what holds them, ` +
          "or raise connection_limit if the server has room",
      );
    } else if (pool.busyForMs >= BUSY_FOR_MS) {
      say(
        "pool-busy",
        "warning",
        `${node.name}'s pool has had at least ${BUSY_SHARE * 100} % of its ${pool.max} connections in use for ` +
          `${seconds(pool.busyForMs)}: it will make queries wait at the next peak`,
      );
    }
    if (connections !== undefined && !connections.fits) {
      const key = `${connections.planned}/${connections.budget}/${node.url}`;
      if (!budgetsTold.has(key)) {
        budgetsTold.add(key);
        say(
          "connections-exceed-max",
          "warning",
          `${connections.instances} instance(s) × ${connections.perInstance} connections = ${connections.planned} ` +
            `to ${node.name}'s server, more than its max_connections ${connections.maxConnections} − ` +
            `${connections.reserved} reserved: at full load logins are refused. Lower connection_limit to ` +
            `${connections.recommendedConnectionLimit}, or put PgBouncer in front`,
        );
      }
    }
    if (
      server !== undefined &&
      server.maxConnections > 0 &&
      server.connections >= server.maxConnections * SERVER_FULL_SHARE
    ) {
      say(
        "server-connections-high",
        "warning",
        `${node.name}'s server has ${server.connections} of max_connections ${server.maxConnections} taken ` +
          "(every role and app): close to refusing new connections",
      );
    }
    if (server !== undefined && server.role.longestTransactionMs >= LONG_TRANSACTION_MS) {
      say(
        "long-transaction",
        "warning",
        `a transaction of role ${server.role.name} on ${node.name} has been open ${seconds(server.role.longestTransactionMs)}: ` +
          "it holds a connection and keeps vacuum from cleaning up",
      );
    }
  }
  return advice;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

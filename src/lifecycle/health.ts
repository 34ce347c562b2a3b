import type { LifecycleSettings, Readiness } from "../config/lifecycle-options.js";
import type { NodeRole } from "../errors.js";
import { readProbeSample } from "../monitor/node-probe.js";
import { ROTATION_FLAGS } from "../monitor/replica-monitor.js";
import type { DbNode } from "../nodes/db-node.js";
import type { GuardBreakerState } from "../resilience/node-guard.js";
import type { PoolBudgetCheck } from "./pool-budget-check.js";
import type { ConnectionPlan } from "./pool-sizing.js";

/** What the health checks read of one createDb() (its SplitState). */
export interface HealthSubject {
  /** The final shutdown has begun (its servers may still be answering what they took). */
  readonly shuttingDown: boolean;
  /** Every node, primary first. */
  readonly nodes: readonly DbNode[];
  readonly lifecycle: LifecycleSettings;
  readonly poolBudget: PoolBudgetCheck;
  breakerState(node: DbNode): GuardBreakerState;
}

/** One node as `db.$health()` saw it. URLs never show a password. */
export interface NodeHealth {
  /** `primary`, `replica-0`, ... */
  readonly name: string;
  readonly role: NodeRole;
  /** The connection string with the password replaced by `***`. */
  readonly url: string;
  /** A probe query ran through the node's pool within `health.timeoutMs`. */
  readonly reachable: boolean;
  /** The probe's round trip, pool wait included (ms); undefined when unreachable. */
  readonly latencyMs: number | undefined;
  /** Why it is unreachable. */
  readonly error: string | undefined;
  /** What the server says it is (`pg_is_in_recovery()`); undefined when unreachable. */
  readonly actualRole: NodeRole | undefined;
  /** `mismatch`: a "replica" that is not in recovery, or a "primary" that is. */
  readonly roleCheck: "ok" | "mismatch" | "unknown";
  /**
   * The node's opossum breaker as opossum holds it (`halfOpen`: its reset timer ran out and the
   * next call is its trial), or `off` with `breaker: false`.
   */
  readonly breaker: GuardBreakerState;
  /**
   * The router sends this node what its role takes (the primary: writes; a replica: reads) right
   * now: exactly when `outOfRotation` is empty.
   */
  readonly inRotation: boolean;
  /**
   * Why not, one word per concern: `unreachable` (this check's probe got no answer), `breaker`
   * (open), and for replicas the monitor's `down`, `lagging`, `role-mismatch`, `writer`.
   */
  readonly outOfRotation: readonly string[];
  /**
   * A replica node that reaches the server the primary points at now (a multi-host URL's writer,
   * or a replica the primary moved to): it takes writes through the primary, no replica reads,
   * and that is no fault.
   */
  readonly writer: boolean;
  readonly inFlight: number;
  readonly pool: { readonly max: number; readonly total: number; readonly idle: number; readonly waiting: number };
  /** Replay lag the replica monitor last measured; undefined without a monitor. */
  readonly lagMs: number | undefined;
  readonly lagBytes: number | undefined;
  /** This server's connection budget, once the pool check has read `max_connections`. */
  readonly connections: ConnectionPlan | undefined;
}

export interface HealthReport {
  /** `down`: the primary cannot take writes (or shutdown has begun); `degraded`: something else is wrong. */
  readonly status: "ok" | "degraded" | "down";
  /**
   * What a readiness probe answers: shutdown has not begun and some node is reachable (with
   * `health.readiness: "primary"`, the primary). Unlike `status`, it stays true while the
   * primary is down and a replica serves reads.
   */
  readonly ready: boolean;
  readonly shuttingDown: boolean;
  /** ISO time of the check. */
  readonly checkedAt: string;
  readonly primary: NodeHealth;
  readonly replicas: readonly NodeHealth[];
}

interface Probe {
  readonly reachable: boolean;
  readonly latencyMs: number | undefined;
  readonly error: string | undefined;
  readonly actualRole: NodeRole | undefined;
}

/**
 * Probes every node at once (a real query through its pool: Prisma 7's `$connect()` is lazy and
 * proves nothing) and reports what it saw. During shutdown it probes nothing: pools are closing.
 */
export async function checkHealth(context: HealthSubject): Promise<HealthReport> {
  const shuttingDown = context.shuttingDown;
  const timeoutMs = context.lifecycle.health.timeoutMs;
  const probes = shuttingDown
    ? context.nodes.map(() => SHUTTING_DOWN)
    : await Promise.all(context.nodes.map((node) => probeNode(node, timeoutMs)));
  if (!shuttingDown) await withTimeout(context.poolBudget.ensure(), timeoutMs, undefined).catch(() => {});
  const reports = context.nodes.map((node, index) => describeNode(node, probes[index] as Probe, context));
  const [primary, ...replicas] = reports as [NodeHealth, ...NodeHealth[]];
  return {
    ...summarize(primary, replicas, shuttingDown, context.lifecycle.health.readiness),
    shuttingDown,
    checkedAt: new Date().toISOString(),
    primary,
    replicas,
  };
}

/**
 * Readiness alone: not shutting down and, in mode `"any"`, some node answers a probe (all are
 * probed at once; the first answer decides, without waiting for a dead node's timeout); in mode
 * `"primary"`, the primary answers.
 */
export async function checkReady(context: HealthSubject): Promise<boolean> {
  if (context.shuttingDown) return false;
  const { timeoutMs, readiness } = context.lifecycle.health;
  const nodes = readiness === "primary" ? context.nodes.slice(0, 1) : context.nodes;
  const answered = await anyReachable(nodes.map((node) => probeNode(node, timeoutMs)));
  return answered && !context.shuttingDown;
}

/**
 * The status rules, apart from any I/O so they can be tested alone. `status` is about the
 * primary (writes); `ready` is about whether this instance can serve at all (see {@link Readiness}).
 */
export function summarize(
  primary: Pick<NodeHealth, "reachable" | "actualRole" | "breaker" | "roleCheck">,
  replicas: ReadonlyArray<
    Pick<NodeHealth, "reachable" | "roleCheck" | "breaker" | "inRotation"> & Partial<Pick<NodeHealth, "writer">>
  >,
  shuttingDown: boolean,
  readiness: Readiness,
): { status: HealthReport["status"]; ready: boolean } {
  const ready =
    !shuttingDown && (primary.reachable || (readiness === "any" && replicas.some((replica) => replica.reachable)));
  if (shuttingDown || !primary.reachable || primary.actualRole === "replica") return { status: "down", ready };
  const degraded =
    breakerTripped(primary.breaker) ||
    replicas.some(
      (replica) =>
        !replica.reachable ||
        replica.roleCheck === "mismatch" ||
        breakerTripped(replica.breaker) ||
        (!replica.inRotation && replica.writer !== true),
    );
  return { status: degraded ? "degraded" : "ok", ready };
}

function breakerTripped(state: GuardBreakerState): boolean {
  return state === "open" || state === "halfOpen";
}

/**
 * True as soon as one probe answers; false once every one has failed (or there is none). A node
 * that does not answer at all cannot hold the answer back for its whole timeout.
 */
export function anyReachable(probes: ReadonlyArray<Promise<Pick<Probe, "reachable">>>): Promise<boolean> {
  return new Promise((resolve) => {
    let pending = probes.length;
    if (pending === 0) resolve(false);
    for (const probe of probes) {
      void probe.then((result) => {
        pending -= 1;
        if (result.reachable) resolve(true);
        else if (pending === 0) resolve(false);
      });
    }
  });
}

/** Runs the probe query through the node's pool, bounded by `timeoutMs`. Never rejects. */
export async function probeNode(node: DbNode, timeoutMs: number): Promise<Probe> {
  const started = performance.now();
  try {
    // The replica monitor's own reading, through the node's pool (pool wait included).
    const sample = await withTimeout(readProbeSample(node.pool), timeoutMs, TIMED_OUT);
    if (sample === TIMED_OUT) {
      const busy = node.pool.waitingCount > 0 ? ` (pool busy: ${node.pool.waitingCount} waiting)` : "";
      return unreachable(`no answer within ${timeoutMs} ms${busy}`);
    }
    return {
      reachable: true,
      latencyMs: round(performance.now() - started),
      error: undefined,
      actualRole: sample.inRecovery ? "replica" : "primary",
    };
  } catch (error) {
    return unreachable(error instanceof Error ? error.message : String(error));
  }
}

function describeNode(node: DbNode, probe: Probe, context: HealthSubject): NodeHealth {
  // A probe is the freshest word on the role; without one, the replica monitor's. A node that
  // does not answer has no role we can vouch for, whatever it said before.
  const actualRole = probe.reachable ? (probe.actualRole ?? node.observed?.actualRole) : undefined;
  const writer = node.rotation.has(ROTATION_FLAGS.writer);
  const expectedRole = writer ? "primary" : node.role;
  const outOfRotation = probe.reachable
    ? node.rotation.flags()
    : [context.shuttingDown ? "shutting-down" : UNREACHABLE, ...node.rotation.flags()];
  return {
    name: node.name,
    role: node.role,
    url: node.settings.redactedUrl,
    reachable: probe.reachable,
    latencyMs: probe.latencyMs,
    error: probe.error,
    actualRole,
    roleCheck: actualRole === undefined ? "unknown" : actualRole === expectedRole ? "ok" : "mismatch",
    breaker: context.breakerState(node),
    inRotation: outOfRotation.length === 0,
    outOfRotation,
    writer,
    inFlight: node.inFlight,
    pool: {
      max: node.settings.poolMax,
      total: node.currentPool?.totalCount ?? 0,
      idle: node.currentPool?.idleCount ?? 0,
      waiting: node.currentPool?.waitingCount ?? 0,
    },
    lagMs: node.observed?.lagMs,
    lagBytes: node.observed?.lagBytes,
    connections: context.poolBudget.planFor(node),
  };
}

const TIMED_OUT = Symbol("timed out");
const UNREACHABLE = "unreachable";
const SHUTTING_DOWN: Probe = Object.freeze({
  reachable: false,
  latencyMs: undefined,
  error: "shutting down",
  actualRole: undefined,
});

function unreachable(error: string): Probe {
  return { reachable: false, latencyMs: undefined, error, actualRole: undefined };
}

function withTimeout<T, F>(promise: Promise<T>, timeoutMs: number, onTimeout: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), timeoutMs);
    timer.unref();
  });
  // A probe that loses the race still settles later; its rejection must not go unhandled.
  promise.catch(() => {});
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

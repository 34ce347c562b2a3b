import type { SplitEvents } from "../events.js";
import type { DbNode } from "./db-node.js";
import { NodeProbe, type ProbeSample } from "./node-probe.js";
import {
  type HealthEvent,
  INITIAL_HEALTH,
  type LagBounds,
  nextReplicaHealth,
  type ProbeOutcome,
  type ReplicaHealth,
} from "./replica-health.js";
import { type Lag, measureLag } from "./replica-lag.js";
import { WalTimeline } from "./wal-timeline.js";

/** The rotation flags the monitor writes (DbNode.rotation). */
export const ROTATION_FLAGS = Object.freeze({
  down: "down",
  lagging: "lagging",
  roleMismatch: "role-mismatch",
  /** The server is the one the primary points at now: it takes writes, not replica reads. */
  writer: "writer",
});

export interface ReplicaMonitorOptions extends LagBounds {
  readonly pollIntervalMs: number;
  /** Bound of one node's probe, connecting included (`health.timeoutMs`): past it the node is down. */
  readonly probeTimeoutMs: number;
  /**
   * Told when a node's probe failed and none of the app's queries there has had an answer for as
   * long: the server is not answering at all (frozen, black-holed), so nothing should wait on it.
   */
  readonly onSilent?: (node: DbNode) => void;
  /** Told when a node's probe succeeded: it answers again, so its breaker need not wait out its reset. */
  readonly onAnswered?: (node: DbNode) => void;
  /**
   * Whether a probe's failure is permanent (authentication, unknown database, SSL): the probe of
   * that node then backs off instead of logging in again every poll.
   */
  readonly isPermanent?: (error: unknown) => boolean;
  /** A replica that is not in recovery takes no reads (otherwise it is only reported). */
  readonly strict: boolean;
  /** Monotonic ms; injectable for tests. Default `performance.now()`. */
  readonly now?: () => number;
  /**
   * Whether a replica node reaches the server the primary points at now (a multi-host URL's
   * writer): it is then no split brain, only out of replica rotation. Default: never.
   */
  readonly isPrimaryServer?: (node: DbNode) => boolean;
  /** Told after each probe of the primary what it found (the primary follower acts on it). */
  readonly onPrimary?: (state: "writer" | "in-recovery" | "unreachable") => void;
  /**
   * How many of the follower's rounds have found no writer among the candidates: a primary in
   * recovery is reported only once a round that started after it was first seen so has ended
   * that way (a round that moves the primary must not be overtaken by a report; a busy machine
   * may take several polls to answer). Not "no round under way": while nobody takes writes the
   * follower asks again every poll, so a round is nearly always under way.
   */
  readonly roundsWithoutWriter?: () => number;
}

/**
 * Polls the primary and every replica each `pollIntervalMs` with one cheap query apiece (see
 * NodeProbe), on its own connections. For each replica it keeps `node.observed` current (role,
 * lag in ms and bytes, replayed WAL position) and the `down` / `lagging` / `role-mismatch` flags in
 * `node.rotation`, which the Router honours; it emits `replica:down|up|lagging` and
 * `role:mismatch` on changes. Its timer is unref()ed and its sockets too: it never keeps the
 * process alive. `stop()` ends it (createDb wires it to `$disconnect()`).
 */
export class ReplicaMonitor {
  readonly #primary: DbNode;
  readonly #replicas: readonly DbNode[];
  readonly #options: ReplicaMonitorOptions;
  readonly #events: SplitEvents;
  readonly #now: () => number;
  readonly #probes: Map<DbNode, NodeProbe>;
  /** The `node.targets` each probe was made for: a retargeted primary gets a new probe. */
  readonly #probeTargets = new Map<DbNode, number>();
  readonly #probeTimeoutMs: number;
  readonly #health = new Map<DbNode, ReplicaHealth>();
  readonly #timeline: WalTimeline;
  readonly #setFlags: Map<DbNode, Record<keyof typeof ROTATION_FLAGS, (on: boolean) => void>>;
  /** Polls in a row that found the primary in recovery (reported from the second, once a round of the follower's found no writer). */
  #primaryInRecovery = 0;
  /** `roundsWithoutWriter()` when this streak of in-recovery polls began. */
  #fruitlessRoundsBefore = 0;
  #primaryMismatchReported = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(primary: DbNode, replicas: readonly DbNode[], options: ReplicaMonitorOptions, events: SplitEvents) {
    this.#primary = primary;
    this.#replicas = replicas;
    this.#options = options;
    this.#events = events;
    this.#now = options.now ?? (() => performance.now());
    const timeoutMs = options.probeTimeoutMs;
    this.#probeTimeoutMs = timeoutMs;
    this.#probes = new Map(
      [primary, ...replicas].map((node) => [
        node,
        new NodeProbe(node.settings, node.name, timeoutMs, options.isPermanent, this.#now),
      ]),
    );
    // The monitor is the one writer of these flags.
    this.#setFlags = new Map(
      replicas.map((node) => [
        node,
        {
          down: node.rotation.claim(ROTATION_FLAGS.down),
          lagging: node.rotation.claim(ROTATION_FLAGS.lagging),
          roleMismatch: node.rotation.claim(ROTATION_FLAGS.roleMismatch),
          writer: node.rotation.claim(ROTATION_FLAGS.writer),
        },
      ]),
    );
    // Lags beyond this are reported as "at least this"; enough to see any bound crossed.
    this.#timeline = new WalTimeline(Math.max(60_000, 4 * (options.maxLagMs ?? 0)));
  }

  /** Starts polling (the first round at once), also again after `stop()`; idempotent. */
  start(): void {
    this.#stopped = false;
    if (this.#timer !== undefined || this.#round !== undefined) return;
    this.#schedule(0);
  }

  /** Stops polling and closes the probe connections until `start()`; idempotent. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const probe of this.#probes.values()) probe.close();
  }

  /** Runs one round now (or joins the running one): tests and benchmarks use it. */
  pollOnce(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#round ??= this.#poll().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  /** Probe queries sent so far, per node name. */
  queriesSent(): Record<string, number> {
    return Object.fromEntries([...this.#probes].map(([node, probe]) => [node.name, probe.queries]));
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const started = this.#now();
      const next = () => {
        if (!this.#stopped) this.#schedule(Math.max(0, this.#options.pollIntervalMs - (this.#now() - started)));
      };
      this.pollOnce().then(next, next);
    }, delayMs);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    const nodes = [this.#primary, ...this.#replicas];
    const primaryTarget = this.#primary.targets;
    const results = await Promise.allSettled(nodes.map((node) => this.#probeOf(node).probe()));
    if (this.#stopped) return;
    const now = this.#now();
    nodes.forEach((node, index) => {
      if (results[index]?.status === "fulfilled") this.#options.onAnswered?.(node);
      // The app's own queries there have had no answer for as long either: not just a slow probe.
      else if (node.silentForMs >= this.#probeTimeoutMs) this.#options.onSilent?.(node);
    });
    try {
      const [primaryResult, ...replicaResults] = results;
      // The primary was pointed elsewhere while this round ran: what it found is about the old server.
      if (this.#primary.targets !== primaryTarget) return;
      const primaryLsn = this.#observePrimary(primaryResult as PromiseSettledResult<ProbeSample>, now);
      const primaryWrites = this.#primary.observed?.actualRole === "primary";
      replicaResults.forEach((result, index) => {
        this.#observeReplica(this.#replicas[index] as DbNode, result, primaryLsn, primaryWrites, now);
      });
    } catch (error) {
      // Only an event listener can throw here; the monitor must keep running regardless.
      process.emitWarning(`prisma-split: an event listener threw in the replica monitor: ${String(error)}`);
    }
  }

  /** The node's probe; a new one after the node was pointed at another server. */
  #probeOf(node: DbNode): NodeProbe {
    let probe = this.#probes.get(node) as NodeProbe;
    if ((this.#probeTargets.get(node) ?? 0) !== node.targets) {
      probe.close();
      probe = new NodeProbe(node.settings, node.name, this.#probeTimeoutMs, this.#options.isPermanent, this.#now);
      this.#probes.set(node, probe);
      this.#probeTargets.set(node, node.targets);
    }
    return probe;
  }

  #observePrimary(result: PromiseSettledResult<ProbeSample>, now: number): bigint | undefined {
    const node = this.#primary;
    if (result.status === "rejected") {
      node.observed = observation(
        false,
        undefined,
        undefined,
        { lagMs: undefined, lagBytes: undefined },
        result.reason,
      );
      this.#options.onPrimary?.("unreachable");
      return undefined;
    }
    const sample = result.value;
    this.#options.onPrimary?.(sample.inRecovery ? "in-recovery" : "writer");
    node.observed = observation(true, sample.inRecovery ? "replica" : "primary", undefined, { lagMs: 0, lagBytes: 0 });
    const fruitlessRounds = this.#options.roundsWithoutWriter?.();
    this.#primaryInRecovery = sample.inRecovery ? this.#primaryInRecovery + 1 : 0;
    if (this.#primaryInRecovery === 0) this.#primaryMismatchReported = false;
    if (this.#primaryInRecovery === 1) this.#fruitlessRoundsBefore = fruitlessRounds ?? 0;
    const followerGaveUp = fruitlessRounds === undefined || fruitlessRounds > this.#fruitlessRoundsBefore;
    if (this.#primaryInRecovery >= 2 && !this.#primaryMismatchReported && followerGaveUp) {
      this.#primaryMismatchReported = true;
      this.#reportMismatch(
        node,
        "replica",
        `prisma-split: the primary (${node.settings.redactedUrl}) is in recovery: it is a standby, and writes sent ` +
          "to it fail with SQLSTATE 25006. No other candidate took writes when asked; check primaryUrl / " +
          "DATABASE_URL if this lasts.",
      );
    }
    if (sample.walLsn !== undefined) this.#timeline.record(now, sample.walLsn);
    return sample.walLsn;
  }

  #observeReplica(
    node: DbNode,
    result: PromiseSettledResult<ProbeSample>,
    primaryLsn: bigint | undefined,
    primaryWrites: boolean,
    now: number,
  ): void {
    let outcome: ProbeOutcome;
    let lag: Lag = { lagMs: undefined, lagBytes: undefined };
    let replayLsn: bigint | undefined;
    const isWriter = this.#options.isPrimaryServer?.(node) === true;
    // A standby that writes while the primary does not: a promotion under way, the follower's
    // business (a candidate), not split brain. It has every commit the primary acknowledged and
    // nothing else writes: its reads stay consistent, so it keeps them until the move. Reported
    // (and, under strict, out of rotation) only if it still writes once the primary does too.
    let candidate = false;
    if (result.status === "rejected") {
      outcome = { reachable: false };
    } else {
      const sample = result.value;
      replayLsn = sample.replayLsn;
      if (sample.inRecovery && replayLsn !== undefined) {
        lag = measureLag({ ...sample, replayLsn }, primaryLsn, this.#timeline, now);
      }
      // The primary's own server, reached as a replica node, is no split brain: it is the writer.
      candidate = !sample.inRecovery && !isWriter && !primaryWrites;
      outcome = { reachable: true, inRecovery: sample.inRecovery || isWriter || candidate, ...lag };
    }

    const previous = this.#health.get(node) ?? INITIAL_HEALTH;
    const { health, events } = nextReplicaHealth(previous, outcome, this.#options);
    this.#health.set(node, health);
    const setFlag = this.#setFlags.get(node)!;
    setFlag.down(health.status === "down");
    setFlag.lagging(health.status === "lagging");
    setFlag.roleMismatch(this.#options.strict && health.roleMismatch);
    setFlag.writer(isWriter);
    node.observed =
      result.status === "rejected"
        ? observation(false, node.observed?.actualRole, undefined, lag, result.reason)
        : observation(true, result.value.inRecovery ? "replica" : "primary", replayLsn, lag);
    for (const event of events) this.#emit(node, event, lag, result.status === "rejected" ? result.reason : undefined);
  }

  #emit(node: DbNode, event: HealthEvent, lag: Lag, error: unknown): void {
    if (event === "role:mismatch") {
      const strict = this.#options.strict
        ? "replicas.strict is on: it takes no reads."
        : "It keeps serving reads (set replicas.strict to refuse it).";
      this.#reportMismatch(
        node,
        "primary",
        `prisma-split: ${node.name} (${node.settings.redactedUrl}) is not in recovery: it is a primary, not a ` +
          `streaming replica, so it has no replication lag to watch. Check replicaUrls / DATABASE_REPLICA_URLS. ${strict}`,
      );
      return;
    }
    if (!this.#events.has(event)) return;
    this.#events.emit(event, {
      role: "replica",
      node: node.name,
      lagMs: lag.lagMs,
      lagBytes: lag.lagBytes,
      ...(error === undefined ? {} : { error }),
    });
  }

  /** Loud: the event, or a process warning (printed by Node) when nobody listens to it. */
  #reportMismatch(node: DbNode, actual: "primary" | "replica", message: string): void {
    if (this.#events.has("role:mismatch")) {
      this.#events.emit("role:mismatch", { role: node.role, node: node.name, actual, message });
    } else {
      process.emitWarning(message, { code: "PRISMA_SPLIT_ROLE_MISMATCH" });
    }
  }
}

function observation(
  reachable: boolean,
  actualRole: "primary" | "replica" | undefined,
  replayLsn: bigint | undefined,
  lag: Lag,
  error?: unknown,
): NonNullable<DbNode["observed"]> {
  return { reachable, at: Date.now(), actualRole, replayLsn, lagMs: lag.lagMs, lagBytes: lag.lagBytes, error };
}

import type { SplitEvents } from "../events.js";
import type { DbNode } from "../nodes/db-node.js";
import { NodeProbe, type ProbeSample } from "./node-probe.js";
import { PollSchedule } from "./poll-schedule.js";
import type { PrimaryPositions } from "./primary-positions.js";
import {
  type HealthEvent,
  INITIAL_HEALTH,
  type LagBounds,
  nextReplicaHealth,
  type ProbeOutcome,
  type ReplicaHealth,
} from "./replica-health.js";
import { type Lag, measureLag } from "./replica-lag.js";
import { isRoleMismatch, mismatchMessage, type ReplicaRole, replicaRole } from "./replica-role.js";
import { WalTimeline } from "./wal-timeline.js";

/**
 * How often the monitor polls while some node's breaker waits for it to answer again
 * (`DbNode.awaitingAnswer`), if `pollIntervalMs` is longer: writes resume within about this long
 * of the server taking them, instead of a whole poll interval or the breaker's `resetTimeout`.
 */
export const QUICK_POLL_MS = 200;

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
   * Told after a round in which a replica took writes and the primary did not: a promotion under
   * way, seen on the monitor's open connections (the primary follower asks its candidates at once).
   */
  readonly onCandidateWriter?: () => void;
  /**
   * How many of the follower's rounds have found no writer among the candidates: a primary in
   * recovery is reported only once a round that started after it was first seen so has ended
   * that way (a round that moves the primary must not be overtaken by a report; a busy machine
   * may take several polls to answer). Not "no round under way": while nobody takes writes the
   * follower asks again every poll, so a round is nearly always under way.
   */
  readonly roundsWithoutWriter?: () => number;
  /** Where each position read off the primary goes, with when its probe was sent (monotonic reads). */
  readonly primaryPositions?: PrimaryPositions;
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
  /** The `node.retargets` each probe was made for: a retargeted primary gets a new probe. */
  readonly #probeRetargets = new Map<DbNode, number>();
  readonly #probeTimeoutMs: number;
  readonly #health = new Map<DbNode, ReplicaHealth>();
  readonly #timeline: WalTimeline;
  readonly #setFlags: Map<DbNode, Record<keyof typeof ROTATION_FLAGS, (on: boolean) => void>>;
  /** Replicas seen in recovery at least once: a replica endpoint, not the primary's address in disguise. */
  readonly #seenAsStandby = new WeakSet<DbNode>();
  /** Polls in a row that found the primary in recovery (reported from the second, once a round of the follower's found no writer). */
  #primaryInRecovery = 0;
  /** `roundsWithoutWriter()` when this streak of in-recovery polls began. */
  #fruitlessRoundsBefore = 0;
  #primaryMismatchReported = false;
  readonly #schedule: PollSchedule;
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
    this.#schedule = new PollSchedule(() => this.pollOnce(), {
      intervalMs: options.pollIntervalMs,
      quickMs: QUICK_POLL_MS,
      hurried: () => this.#nodes().some((node) => node.awaitingAnswer),
      now: this.#now,
    });
    for (const node of this.#nodes()) node.watchAwaiting(() => this.#schedule.hurry());
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
    this.#schedule.start();
  }

  /** Stops polling and closes the probe connections until `start()`; idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#schedule.stop();
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

  #nodes(): DbNode[] {
    return [this.#primary, ...this.#replicas];
  }

  async #poll(): Promise<void> {
    const nodes = this.#nodes();
    const primaryRetargets = this.#primary.retargets;
    const sentAt = this.#now();
    const results = await Promise.allSettled(nodes.map((node) => this.#probeOf(node).probe()));
    if (this.#stopped) return;
    const now = this.#now();
    nodes.forEach((node, index) => {
      // The app's own queries there have had no answer for as long either: not just a slow probe.
      if (results[index]?.status === "rejected" && node.silentForMs >= this.#probeTimeoutMs)
        this.#options.onSilent?.(node);
    });
    try {
      const [primaryResult, ...replicaResults] = results;
      // The primary was pointed elsewhere while this round ran: what it found is about the old server.
      if (this.#primary.retargets !== primaryRetargets) return;
      const primaryLsn = this.#observePrimary(primaryResult as PromiseSettledResult<ProbeSample>, now);
      if (primaryLsn !== undefined) this.#options.primaryPositions?.record(sentAt, primaryLsn);
      // The server the primary reaches, when it takes writes.
      const primaryWriter =
        primaryResult?.status === "fulfilled" && !primaryResult.value.inRecovery
          ? primaryResult.value.server
          : undefined;
      const roles = replicaResults.map((result, index) =>
        this.#observeReplica(this.#replicas[index] as DbNode, result, primaryLsn, primaryWriter, now),
      );
      if (roles.includes("candidate")) this.#options.onCandidateWriter?.();
      results.forEach((result, index) => {
        const node = nodes[index] as DbNode;
        if (result.status === "fulfilled") node.probeAnswered(result.value.inRecovery ? "replica" : "primary");
        // Still waited for: look next time on a new connection, as the pool would connect. An old
        // one through HAProxy stays on the server it reached (a standby now) until HAProxy cuts it.
        if (node.awaitingAnswer) this.#probes.get(node)?.close();
      });
    } catch (error) {
      // Only an event listener can throw here; the monitor must keep running regardless.
      process.emitWarning(`prisma-split: an event listener threw in the replica monitor: ${String(error)}`);
    }
  }

  /** The node's probe; a new one after the node was pointed at another server. */
  #probeOf(node: DbNode): NodeProbe {
    let probe = this.#probes.get(node) as NodeProbe;
    if ((this.#probeRetargets.get(node) ?? 0) !== node.retargets) {
      probe.close();
      probe = new NodeProbe(node.settings, node.name, this.#probeTimeoutMs, this.#options.isPermanent, this.#now);
      this.#probes.set(node, probe);
      this.#probeRetargets.set(node, node.retargets);
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
    primaryWriter: string | undefined,
    now: number,
  ): ReplicaRole {
    let outcome: ProbeOutcome;
    let lag: Lag = { lagMs: undefined, lagBytes: undefined };
    let replayLsn: bigint | undefined;
    const reachesPrimary = this.#options.isPrimaryServer?.(node) === true;
    let role: ReplicaRole = "standby";
    if (result.status === "rejected") {
      outcome = { reachable: false };
    } else {
      const sample = result.value;
      replayLsn = sample.replayLsn;
      if (sample.inRecovery && replayLsn !== undefined) {
        lag = measureLag({ ...sample, replayLsn }, primaryLsn, this.#timeline, now);
      }
      role = replicaRole({
        inRecovery: sample.inRecovery,
        reachesPrimary,
        server: sample.server,
        primaryWriter,
        seenAsStandby: this.#seenAsStandby.has(node),
      });
      if (sample.inRecovery) this.#seenAsStandby.add(node);
      outcome = { reachable: true, inRecovery: !isRoleMismatch(role), ...lag };
    }

    const previous = this.#health.get(node) ?? INITIAL_HEALTH;
    const { health, events } = nextReplicaHealth(previous, outcome, this.#options);
    this.#health.set(node, health);
    const setFlag = this.#setFlags.get(node)!;
    setFlag.down(health.status === "down");
    setFlag.lagging(health.status === "lagging");
    setFlag.roleMismatch(this.#options.strict && health.roleMismatch);
    setFlag.writer(reachesPrimary);
    node.observed =
      result.status === "rejected"
        ? observation(false, node.observed?.actualRole, undefined, lag, result.reason)
        : observation(true, result.value.inRecovery ? "replica" : "primary", replayLsn, lag);
    const error = result.status === "rejected" ? result.reason : undefined;
    for (const event of events) this.#emit(node, event, lag, error, role);
    return role;
  }

  #emit(node: DbNode, event: HealthEvent, lag: Lag, error: unknown, role: ReplicaRole): void {
    if (event === "role:mismatch") {
      const replica = { name: node.name, url: node.settings.redactedUrl };
      const message = mismatchMessage(role, replica, this.#primary.settings.redactedUrl, this.#options.strict);
      this.#reportMismatch(node, "primary", message);
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

import type { NodeRole } from "../errors.js";
import type { SplitEvents } from "../events.js";
import type { DbNode, NodeTask } from "../nodes/db-node.js";
import { AttemptFailure, toAttemptFailure } from "./attempt-failure.js";
import { Bulkhead, type ShedCause } from "./bulkhead.js";
import { type BreakerSettings, type BreakerState, NodeBreaker } from "./circuit-breaker.js";
import { verdictOn } from "./classify-fault.js";
import { overloadedError, shuttingDownError } from "./refusals.js";
import { RetryBudget, type RetryBudgetSettings } from "./retry-budget.js";

/** The per-node layers, each `false` when turned off. */
export interface NodeGuardSettings {
  readonly breaker: BreakerSettings | false;
  /** Count bound of the bulkhead (`Infinity`: none); its concurrency is the node's `connection_limit`. */
  readonly bulkhead: { readonly maxQueue: number } | false;
  readonly budget: RetryBudgetSettings | false;
}

/** The rotation flag the breaker writes while it is open. */
export const BREAKER_FLAG = "breaker";

/** Told when a node's breaker changes state (the primary follower suspects an open primary). */
export type BreakerChange = (node: DbNode, state: BreakerState) => void;

/** The node's breaker state as opossum holds it, or `off` for a node built with `breaker: false`. */
export type GuardBreakerState = BreakerState | "off";

/**
 * One node's failure handling, in the order a call meets it: the bulkhead admits or sheds it (load
 * it sheds never reaches the breaker: load is not a node failure), the breaker lets it through or
 * refuses it, the node runs it and its failure is classified, once, into an AttemptFailure.
 * Holds the node's retry budget, writes the node's `breaker` rotation flag, and reports breaker
 * changes and sheds on `db.$events`.
 *
 * @example
 * const guard = new NodeGuard(node, settings, events);
 * await guard.run(call); // call.startOn(node) inside, if admitted
 */
export class NodeGuard {
  readonly node: DbNode;
  readonly #events: SplitEvents;
  readonly #breaker: NodeBreaker | undefined;
  readonly #bulkhead: Bulkhead | undefined;
  readonly #budget: RetryBudget | undefined;
  readonly #setBreakerFlag: (on: boolean) => void;
  readonly #onProbeAnswer = (role: NodeRole): void => this.#probeAnswered(role);
  readonly #onBreakerChange: BreakerChange | undefined;
  /** Runs a task on the node; the breaker's action (bound once, so no closure is made per call). */
  readonly #onNode = (task: NodeTask): Promise<unknown> => this.node.run(task, this.#classify);
  /** The node's failure as an AttemptFailure, with what it says about the node noted on the node. */
  readonly #classify = (error: unknown, retargeted: boolean): AttemptFailure => {
    const failure = toAttemptFailure(error);
    failure.retargeted = retargeted;
    const node = this.node;
    const verdict = verdictOn(failure.fault);
    if (verdict === "alive") node.answered();
    // The primary refused a write as a standby: demoted, or a DNS endpoint that now reaches a reader.
    if (failure.fault.kind === "read-only" && node.role === "primary") node.readOnlyAnswered();
    else if (failure.fault.kind === "overloaded") {
      failure.stalled = performance.now() - node.lastAnsweredAt >= Math.max(1, node.settings.poolTimeoutMs);
    }
    return failure;
  };

  constructor(
    node: DbNode,
    settings: NodeGuardSettings,
    events: SplitEvents,
    onBreakerChange?: BreakerChange,
    now: () => number = Date.now,
  ) {
    this.node = node;
    this.#events = events;
    this.#onBreakerChange = onBreakerChange;
    this.#setBreakerFlag = node.rotation.claim(BREAKER_FLAG);
    if (settings.breaker !== false) {
      const who = { role: node.role, node: node.name };
      this.#breaker = new NodeBreaker(settings.breaker, who, (state) => this.#breakerChanged(state), now);
    }
    if (settings.bulkhead !== false) {
      this.#bulkhead = new Bulkhead({
        maxConcurrent: node.settings.poolMax,
        maxQueue: settings.bulkhead.maxQueue,
        maxWaitMs: node.settings.poolTimeoutMs,
      });
      node.observeLoad(this.#bulkhead);
    }
    if (settings.budget !== false) this.#budget = new RetryBudget(settings.budget, now);
  }

  /** Runs one attempt of `task` on the node: admitted, through the breaker, classified on failure. */
  run(task: NodeTask): Promise<unknown> {
    this.#budget?.recordCall();
    const shed = this.#bulkhead?.refusal(this.node.inFlight);
    if (shed !== undefined) return Promise.reject(new AttemptFailure(this.#shed(shed)));
    return this.#breaker === undefined ? this.#onNode(task) : this.#breaker.execute(this.#onNode, task);
  }

  get breakerState(): GuardBreakerState {
    return this.#breaker?.state ?? "off";
  }

  /** Takes one retry from this node's budget; true when there is no budget. */
  tryRetry(): boolean {
    return this.#budget === undefined ? true : this.#budget.tryRetry();
  }

  /** Seconds until the node is worth trying again (an open breaker's remaining reset time). */
  retryAfterSeconds(): number {
    return this.#breaker?.retryAfterSeconds() ?? 1;
  }

  /** Closes the breaker if open: the node was pointed at another server (see PrimaryFollower). */
  resetBreaker(): void {
    this.#breaker?.reset();
  }

  /** Opens the breaker if closed: the node was found hung (its calls then fail fast). */
  tripBreaker(): void {
    this.#breaker?.trip();
  }

  /** Stops the breaker's timers and refuses later calls (the final close). */
  close(): void {
    this.#breaker?.shutdown();
    this.#bulkhead?.close();
    this.node.awaitAnswer(undefined);
  }

  /**
   * A probe of the monitor's or the follower's found the server answering while the breaker is
   * open: it closes at once, as after a successful half-open trial, instead of waiting out
   * `resetTimeout` (writes resume as soon as the database takes them). The primary's breaker only
   * when the server takes writes: a standby there is the follower's business.
   */
  #probeAnswered(role: NodeRole): void {
    if (this.node.role === "primary" && role !== "primary") return;
    this.#breaker?.reset();
  }

  #breakerChanged(state: BreakerState): void {
    const node = this.node;
    node.awaitAnswer(state === "open" ? this.#onProbeAnswer : undefined);
    // Open: out of read rotation. Half-open: back in, so a read can be the trial call.
    this.#setBreakerFlag(state === "open");
    this.#onBreakerChange?.(node, state);
    const event = state === "open" ? "breaker:open" : state === "halfOpen" ? "breaker:halfOpen" : "breaker:close";
    this.#events.emit(event, { role: node.role, node: node.name });
  }

  #shed(cause: ShedCause): Error {
    const node = this.node;
    if (cause === "closed") return shuttingDownError(node.role, `${node.name} is shutting down`, node.name);
    if (this.#events.has("shed")) this.#events.emit("shed", { role: node.role, node: node.name });
    const why =
      cause === "queue-full"
        ? `${this.#bulkhead?.maxQueue} calls already wait for one (bulkhead.maxQueue)`
        : "none would free up within pool_timeout at the pace they have been freeing up";
    return overloadedError(
      node,
      `${node.name} (${node.role}) is overloaded: all ${node.settings.poolMax} connections are busy and ${why}`,
    );
  }
}

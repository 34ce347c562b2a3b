import { DatabaseUnavailableError, type NodeRole } from "../errors.js";
import type { SplitEvents } from "../events.js";
import type { DbNode } from "../nodes/db-node.js";
import { type AttemptFailure, toAttemptFailure } from "./attempt-failure.js";
import { Bulkhead, type ShedCause } from "./bulkhead.js";
import { type BreakerSettings, type BreakerState, NodeBreaker } from "./circuit-breaker.js";
import type { Action, Policy } from "./policy.js";
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

/** Fault kinds that are the server's own answer: the node is alive. */
const ANSWERS = new Set(["query", "read-only", "configuration"]);

/** The innermost layer: the node itself, which counts the query and classifies its failure once. */
class OnNode implements Policy {
  readonly #node: DbNode;
  readonly #toFailure: (error: unknown) => AttemptFailure;

  constructor(node: DbNode) {
    this.#node = node;
    this.#toFailure = (error) => {
      const failure = toAttemptFailure(error);
      const kind = failure.fault.kind;
      if (ANSWERS.has(kind)) node.answered();
      // The primary refused a write as a standby: demoted, or a DNS endpoint that now reaches a reader.
      if (kind === "read-only" && node.role === "primary") node.readOnlyAnswered();
      else if (kind === "overloaded") {
        failure.stalled = performance.now() - node.lastAnsweredAt >= Math.max(1, node.settings.poolTimeoutMs);
      }
      return failure;
    };
  }

  execute<C, T>(action: Action<C, T>, context: C): Promise<T> {
    return this.#node.run(action, context, this.#toFailure);
  }
}

/** Admission: refuses at once what would not get a connection within `pool_timeout`. */
class Admission implements Policy {
  readonly #node: DbNode;
  readonly #bulkhead: Bulkhead;
  readonly #inner: Policy;
  readonly #shed: (cause: ShedCause) => Error;

  constructor(node: DbNode, bulkhead: Bulkhead, inner: Policy, shed: (cause: ShedCause) => Error) {
    this.#node = node;
    this.#bulkhead = bulkhead;
    this.#inner = inner;
    this.#shed = shed;
  }

  execute<C, T>(action: Action<C, T>, context: C): Promise<T> {
    const refusal = this.#bulkhead.refusal(this.#node.inFlight);
    return refusal === undefined ? this.#inner.execute(action, context) : Promise.reject(this.#shed(refusal));
  }
}

/**
 * One node's failure handling, composed once: bulkhead → breaker → the node. The bulkhead comes
 * first so that load it sheds never reaches the breaker (load is not a node failure, and opossum
 * would count a shed call either way). Holds the node's retry budget, writes the node's `breaker`
 * rotation flag, and reports breaker changes and sheds on `db.$events`.
 *
 * @example
 * const guard = new NodeGuard(node, settings, events);
 * await guard.execute((call) => call.run(), call);
 */
export class NodeGuard implements Policy {
  readonly node: DbNode;
  readonly #events: SplitEvents;
  readonly #stack: Policy;
  readonly #breaker: NodeBreaker | undefined;
  readonly #bulkhead: Bulkhead | undefined;
  readonly #budget: RetryBudget | undefined;
  readonly #setBreakerFlag: (on: boolean) => void;
  readonly #onProbeAnswer = (role: NodeRole): void => this.#probeAnswered(role);

  constructor(node: DbNode, settings: NodeGuardSettings, events: SplitEvents, now: () => number = Date.now) {
    this.node = node;
    this.#events = events;
    this.#setBreakerFlag = node.rotation.claim(BREAKER_FLAG);
    let stack: Policy = new OnNode(node);
    if (settings.breaker !== false) {
      const who = { role: node.role, node: node.name };
      this.#breaker = new NodeBreaker(settings.breaker, who, stack, (state) => this.#onBreakerChange(state), now);
      stack = this.#breaker;
    }
    if (settings.bulkhead !== false) {
      this.#bulkhead = new Bulkhead({
        maxConcurrent: node.settings.poolMax,
        maxQueue: settings.bulkhead.maxQueue,
        maxWaitMs: node.settings.poolTimeoutMs,
      });
      node.observeLoad(this.#bulkhead);
      stack = new Admission(node, this.#bulkhead, stack, (cause) => this.#shed(cause));
    }
    if (settings.budget !== false) this.#budget = new RetryBudget(settings.budget, now);
    this.#stack = stack;
  }

  /** Runs one attempt on the node through its layers; a first attempt counts toward the retry budget. */
  execute<C, T>(action: Action<C, T>, context: C): Promise<T> {
    this.#budget?.recordCall();
    return this.#stack.execute(action, context);
  }

  get breakerState(): BreakerState {
    return this.#breaker?.state ?? "closed";
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

  #onBreakerChange(state: BreakerState): void {
    const node = this.node;
    node.awaitAnswer(state === "open" ? this.#onProbeAnswer : undefined);
    // Open: out of read rotation. Half-open: back in, so a read can be the trial call.
    this.#setBreakerFlag(state === "open");
    const event = state === "open" ? "breaker:open" : state === "halfOpen" ? "breaker:halfOpen" : "breaker:close";
    this.#events.emit(event, { role: node.role, node: node.name });
  }

  #shed(cause: ShedCause): Error {
    const node = this.node;
    if (cause === "closed") {
      return new DatabaseUnavailableError(`prisma-split: ${node.name} is shutting down`, {
        role: node.role,
        node: node.name,
        reason: "shutting-down",
        outcome: "not-applied",
      });
    }
    if (this.#events.has("shed")) this.#events.emit("shed", { role: node.role, node: node.name });
    const why =
      cause === "queue-full"
        ? `${this.#bulkhead?.maxQueue} calls already wait for one (bulkhead.maxQueue)`
        : "none would free up within pool_timeout at the pace they have been freeing up";
    return new DatabaseUnavailableError(
      `prisma-split: ${node.name} (${node.role}) is overloaded: all ${node.settings.poolMax} connections are busy and ${why}`,
      { role: node.role, node: node.name, reason: "overloaded", outcome: "not-applied" },
    );
  }
}

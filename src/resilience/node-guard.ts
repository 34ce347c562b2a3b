import { DatabaseUnavailableError } from "../errors.js";
import type { SplitEvents } from "../lifecycle/events.js";
import type { DbNode, NodePolicy } from "../nodes/db-node.js";
import { Bulkhead, type ShedCause } from "./bulkhead.js";
import { type BreakerSettings, type BreakerState, NodeBreaker } from "./circuit-breaker.js";
import { RetryBudget, type RetryBudgetSettings } from "./retry-budget.js";

/** The per-node layers, each `false` when turned off. */
export interface NodeGuardSettings {
  readonly breaker: BreakerSettings | false;
  /** Queue bound of the bulkhead; its concurrency is the node's `connection_limit`. */
  readonly bulkhead: { readonly maxQueue: number } | false;
  readonly budget: RetryBudgetSettings | false;
}

/** The flag this guard sets in `node.outOfRotation` while the node's breaker is open. */
export const BREAKER_FLAG = "breaker";

/**
 * The per-node half of the failure handling: breaker of the node → bulkhead → the query, plus
 * the node's retry budget. Keeps `node.breakerState` and the node's place in read rotation in
 * step with the breaker, and reports on `db.$events`.
 */
export class NodeGuard implements NodePolicy {
  readonly #node: DbNode;
  readonly #events: SplitEvents;
  readonly #breaker: NodeBreaker | undefined;
  readonly #bulkhead: Bulkhead | undefined;
  readonly #budget: RetryBudget | undefined;

  constructor(node: DbNode, settings: NodeGuardSettings, events: SplitEvents, now: () => number = Date.now) {
    this.#node = node;
    this.#events = events;
    const who = { role: node.role, node: node.name };
    if (settings.breaker !== false) {
      this.#breaker = new NodeBreaker(settings.breaker, who, (state) => this.#onBreakerChange(state), now);
    }
    if (settings.bulkhead !== false) {
      const limits = {
        maxConcurrent: node.settings.poolMax,
        maxQueue: settings.bulkhead.maxQueue,
        maxWaitMs: node.settings.poolTimeoutMs,
      };
      this.#bulkhead = new Bulkhead(limits, (cause) => this.#shed(cause));
    }
    if (settings.budget !== false) this.#budget = new RetryBudget(settings.budget, now);
  }

  /** Runs one query (`run` is the node's counting `run()`): breaker → bulkhead → query. */
  execute<T>(run: () => Promise<T>): Promise<T> {
    const bulkhead = this.#bulkhead;
    // A call the bulkhead refuses at once never reaches the breaker: load is not a node failure,
    // and opossum would count it either way (as a success it would hide a failing node).
    if (bulkhead?.isFull) return Promise.reject(this.#shed(bulkhead.refusal));
    this.#budget?.recordCall();
    if (this.#breaker === undefined) return bulkhead === undefined ? run() : bulkhead.execute(run);
    if (bulkhead === undefined) return this.#breaker.execute(run);
    // When the breaker's timeout gives up on a call still queued in the bulkhead, withdraw it.
    const ticket: { abandon?: () => void } = {};
    const outcome = this.#breaker.execute(() => bulkhead.execute(run, ticket));
    outcome.catch(() => ticket.abandon?.());
    return outcome;
  }

  /**
   * For a transaction, whose length the user bounds: refused while the breaker is open and
   * limited by the bulkhead, but not timed by the breaker (it would cut a long transaction
   * short while it runs on) and so not counted either.
   */
  executeUntimed<T>(run: () => Promise<T>): Promise<T> {
    if (this.#breaker?.state === "open") {
      return this.#breaker.execute(run);
    }
    return this.#bulkhead === undefined ? run() : this.#bulkhead.execute(run);
  }

  /** Takes one retry from this node's budget; true when there is no budget. */
  tryRetry(): boolean {
    return this.#budget === undefined ? true : this.#budget.tryRetry();
  }

  retryAfterSeconds(): number {
    return this.#breaker?.retryAfterSeconds() ?? 1;
  }

  /** Stops the breaker's timers and refuses queued calls; running calls finish. */
  close(): void {
    this.#breaker?.shutdown();
    this.#bulkhead?.close();
  }

  #onBreakerChange(state: BreakerState): void {
    const node = this.#node;
    node.breakerState = state;
    // Open: out of read rotation. Half-open: back in, so a read can be the trial call.
    if (state === "open") node.outOfRotation.add(BREAKER_FLAG);
    else node.outOfRotation.delete(BREAKER_FLAG);
    const event = state === "open" ? "breaker:open" : state === "halfOpen" ? "breaker:halfOpen" : "breaker:close";
    this.#events.emit(event, { role: node.role, node: node.name });
  }

  #shed(cause: ShedCause): Error {
    const node = this.#node;
    if (cause === "abandoned") {
      // Nobody awaits this one any more: the breaker's timeout already answered the caller.
      return new DatabaseUnavailableError(`prisma-split: ${node.name}: the call was withdrawn from the queue`, {
        role: node.role,
        node: node.name,
        reason: "unreachable",
      });
    }
    if (cause === "closed") {
      return new DatabaseUnavailableError(`prisma-split: ${node.name} is shutting down`, {
        role: node.role,
        node: node.name,
        reason: "shutting-down",
      });
    }
    if (this.#events.has("shed")) this.#events.emit("shed", { role: node.role, node: node.name });
    const why = cause === "queue-full" ? "its wait queue is full" : "no connection freed up within pool_timeout";
    return new DatabaseUnavailableError(
      `prisma-split: ${node.name} (${node.role}) is overloaded: ${node.settings.poolMax} queries in flight and ${why}`,
      { role: node.role, node: node.name, reason: "overloaded" },
    );
  }
}

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
      this.#bulkhead = new Bulkhead(limits);
    }
    if (settings.budget !== false) this.#budget = new RetryBudget(settings.budget, now);
  }

  /**
   * Runs one query on the node (its counting `run()`): the bulkhead admits it, then the breaker
   * runs it, its timeout covering the wait for a pool connection and the query.
   */
  execute<T>(start: () => PromiseLike<T>): Promise<T> {
    const node = this.#node;
    // A call the bulkhead refuses never reaches the breaker: load is not a node failure, and
    // opossum would count it either way (as a success it would hide a failing node).
    const refusal = this.#bulkhead?.refusal(node.inFlight);
    if (refusal !== undefined) return Promise.reject(this.#shed(refusal));
    this.#budget?.recordCall();
    return this.#breaker === undefined ? node.run(start) : this.#breaker.execute(node, start);
  }

  /**
   * For a transaction, whose length the user bounds: refused while the breaker is open and
   * limited by the bulkhead, but not timed by the breaker (it would cut a long transaction
   * short while it runs on) and so not counted either.
   */
  executeUntimed<T>(start: () => PromiseLike<T>): Promise<T> {
    const node = this.#node;
    if (this.#breaker?.state === "open") return this.#breaker.execute(node, start);
    const refusal = this.#bulkhead?.refusal(node.inFlight);
    return refusal === undefined ? node.run(start) : Promise.reject(this.#shed(refusal));
  }

  started(inFlightAfter: number): void {
    this.#bulkhead?.started(inFlightAfter);
  }

  finished(inFlightBefore: number): void {
    this.#bulkhead?.finished(inFlightBefore);
  }

  /** Takes one retry from this node's budget; true when there is no budget. */
  tryRetry(): boolean {
    return this.#budget === undefined ? true : this.#budget.tryRetry();
  }

  retryAfterSeconds(): number {
    return this.#breaker?.retryAfterSeconds() ?? 1;
  }

  /** Stops the breaker's timers and refuses later calls; running and waiting calls finish. */
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
    if (cause === "closed") {
      return new DatabaseUnavailableError(`prisma-split: ${node.name} is shutting down`, {
        role: node.role,
        node: node.name,
        reason: "shutting-down",
      });
    }
    if (this.#events.has("shed")) this.#events.emit("shed", { role: node.role, node: node.name });
    const why =
      cause === "queue-full"
        ? `${this.#bulkhead?.maxQueue} calls already wait for one (bulkhead.maxQueue)`
        : "none would free up within pool_timeout at the pace they have been freeing up";
    return new DatabaseUnavailableError(
      `prisma-split: ${node.name} (${node.role}) is overloaded: all ${node.settings.poolMax} connections are busy and ${why}`,
      { role: node.role, node: node.name, reason: "overloaded" },
    );
  }
}

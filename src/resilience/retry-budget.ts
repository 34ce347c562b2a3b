import type { RetryBudgetSettings } from "../config/resolve-resilience.js";

export type { RetryBudgetSettings } from "../config/resolve-resilience.js";

const BUCKETS = 10;

/**
 * Retries of one node stay under `minRetries + ratio × calls` over the last `windowMs`
 * (Finagle's and gRPC's retry budget), so an outage does not multiply the load on a node that
 * is already failing. Counts live in ten rotating buckets; the clock is injectable.
 *
 * @example
 * const budget = new RetryBudget({ ratio: 0.2, minRetries: 10, windowMs: 10_000 });
 * budget.recordCall();
 * if (budget.tryRetry()) retryNow();
 */
export class RetryBudget {
  readonly #settings: RetryBudgetSettings;
  readonly #now: () => number;
  readonly #bucketMs: number;
  readonly #calls = new Array<number>(BUCKETS).fill(0);
  readonly #retries = new Array<number>(BUCKETS).fill(0);
  /** The bucket index (time / bucketMs) the arrays were last rotated to. */
  #epoch: number;

  constructor(settings: RetryBudgetSettings, now: () => number = Date.now) {
    this.#settings = settings;
    this.#now = now;
    this.#bucketMs = Math.max(1, settings.windowMs / BUCKETS);
    this.#epoch = Math.floor(now() / this.#bucketMs);
  }

  /** A first attempt was made on this node. */
  recordCall(): void {
    this.#calls[this.#rotate()]! += 1;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean {
    const slot = this.#rotate();
    const calls = this.#calls.reduce((sum, count) => sum + count, 0);
    const retries = this.#retries.reduce((sum, count) => sum + count, 0);
    if (retries >= this.#settings.minRetries + this.#settings.ratio * calls) return false;
    this.#retries[slot]! += 1;
    return true;
  }

  /** Clears buckets the clock has moved past; returns the current bucket's index. */
  #rotate(): number {
    const epoch = Math.floor(this.#now() / this.#bucketMs);
    const elapsed = Math.min(BUCKETS, epoch - this.#epoch);
    for (let step = 1; step <= elapsed; step++) {
      const slot = (this.#epoch + step) % BUCKETS;
      this.#calls[slot] = 0;
      this.#retries[slot] = 0;
    }
    if (epoch > this.#epoch) this.#epoch = epoch;
    return this.#epoch % BUCKETS;
  }
}

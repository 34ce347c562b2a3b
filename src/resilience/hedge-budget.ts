/**
 * Hedges of a client stay under `ratio` × its hedgeable reads, plus a burst of `burst`: each read
 * adds `ratio` of a token (up to `burst`), each hedge takes a whole one (Finagle's retry budget,
 * by count instead of time). A cluster that is slow everywhere gets at most 10 % more reads by
 * default, never twice as many.
 *
 * @example
 * const budget = new HedgeBudget(0.1);
 * budget.recordRead();
 * if (budget.tryHedge()) sendElsewhereToo();
 */
export class HedgeBudget {
  readonly #ratio: number;
  readonly #burst: number;
  #tokens = 0;

  constructor(ratio: number, burst = 10) {
    this.#ratio = ratio;
    this.#burst = burst;
  }

  /** A read that could be hedged started. */
  recordRead(): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + this.#ratio);
  }

  /** Takes one hedge from the budget; false when it is spent. */
  tryHedge(): boolean {
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** How fast an old answer time fades (e-folding time, ms): a slowdown is forgotten within seconds. */
export const LATENCY_DECAY_MS = 1_000;

/**
 * A node's recent answer time as a peak-sensitive, time-decaying average (Finagle's and Linkerd's
 * "peak EWMA"): a slower answer than the average is taken at once (a node that turns slow is
 * avoided from its next answer on), a faster one is blended in by how much time has passed. Read
 * with `estimate()`, the average also fades toward zero while the node gets no answers, so a node
 * a selector has been avoiding is tried again once its bad news is old. The clock is the caller's
 * (`performance.now()` by default).
 *
 * @example
 * const latency = new LatencyEwma();
 * latency.observe(4.2); // ms one query took
 * latency.estimate(); // ≈ 4.2
 */
export class LatencyEwma {
  readonly #decayMs: number;
  readonly #now: () => number;
  #cost = 0;
  #at = 0;
  #seen = false;

  constructor(decayMs: number = LATENCY_DECAY_MS, now: () => number = () => performance.now()) {
    this.#decayMs = decayMs;
    this.#now = now;
  }

  /** One answer took `ms`. */
  observe(ms: number, now: number = this.#now()): void {
    if (!this.#seen || ms >= this.#cost) {
      this.#cost = ms;
    } else {
      const weight = Math.exp(-Math.max(0, now - this.#at) / this.#decayMs);
      this.#cost = this.#cost * weight + ms * (1 - weight);
    }
    this.#at = now;
    this.#seen = true;
  }

  /**
   * A failure took `ms`: it may only make the node look slower (a node that fails fast must not
   * attract more reads for it; failing is the breaker's business).
   */
  penalize(ms: number, now: number = this.#now()): void {
    if (ms > this.estimateAt(now)) this.observe(ms, now);
  }

  /** The average now, in ms; undefined before the first answer. */
  estimate(): number | undefined {
    return this.#seen ? this.estimateAt(this.#now()) : undefined;
  }

  /** The average at `now`, faded for the time since the last answer; 0 before the first. */
  estimateAt(now: number): number {
    return this.#cost * Math.exp(-Math.max(0, now - this.#at) / this.#decayMs);
  }
}

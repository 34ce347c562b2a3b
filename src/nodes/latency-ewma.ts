/** How fast a node's answer time fades while it gets no answers (e-folding time, ms): an avoided node is tried again within seconds. */
export const LATENCY_DECAY_MS = 1_000;

/** The window its fastest answer is kept for (ms): a node that turns slow is seen as slow within two of them. */
export const LATENCY_WINDOW_MS = 500;

/**
 * A node's answer time as the fastest of its recent statement times: the least of the current
 * and the previous window (`LATENCY_WINDOW_MS` each). A statement's time on the client is the
 * server's and the network's plus however long the client's own event loop took to get to the
 * answer; with a busy client that wait is most of it and the same for every node, and the
 * fastest answer of the last second leaves it out where an average (or a peak) carries it. A node
 * that turns slow is seen as slow once no faster answer is left in either window; read with
 * `estimate()`, the value also fades toward zero while the node gets no answers, so a node a
 * selector has been avoiding is tried again once its bad news is old. The clock is the caller's
 * (`performance.now()` by default).
 *
 * @example
 * const latency = new LatencyEwma();
 * latency.observe(4.2); // ms one statement took
 * latency.estimate(); // ≈ 4.2
 */
export class LatencyEwma {
  readonly #decayMs: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  /** The fastest answer of the current window; Infinity until one came in it. */
  #current = Number.POSITIVE_INFINITY;
  /** The fastest answer of the last window that had one. */
  #previous = Number.POSITIVE_INFINITY;
  #windowStart = 0;
  #at = 0;
  #seen = false;

  constructor(
    decayMs: number = LATENCY_DECAY_MS,
    now: () => number = () => performance.now(),
    windowMs: number = LATENCY_WINDOW_MS,
  ) {
    this.#decayMs = decayMs;
    this.#now = now;
    this.#windowMs = windowMs;
  }

  /** One answer took `ms`. */
  observe(ms: number, now: number = this.#now()): void {
    if (!this.#seen) this.#windowStart = now;
    else this.#roll(now);
    if (ms < this.#current) this.#current = ms;
    this.#at = now;
    this.#seen = true;
  }

  /**
   * A failure took `ms`: it may only make the node look slower (a node that fails fast must not
   * attract more reads for it; failing is the breaker's business), and it does so at once.
   */
  penalize(ms: number, now: number = this.#now()): void {
    if (ms <= this.estimateAt(now) && this.#seen) return;
    this.#windowStart = now;
    this.#current = ms;
    this.#previous = Number.POSITIVE_INFINITY;
    this.#at = now;
    this.#seen = true;
  }

  /** The answer time now, in ms; undefined before the first answer. */
  estimate(): number | undefined {
    return this.#seen ? this.estimateAt(this.#now()) : undefined;
  }

  /** The answer time at `now`, faded for the time since the last answer; 0 before the first. */
  estimateAt(now: number): number {
    if (!this.#seen) return 0;
    const fastest = Math.min(this.#current, this.#previous);
    return fastest * Math.exp(-Math.max(0, now - this.#at) / this.#decayMs);
  }

  /** Moves to the window `now` is in; a window without answers keeps the one before it. */
  #roll(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < this.#windowMs) return;
    if (this.#current !== Number.POSITIVE_INFINITY) this.#previous = this.#current;
    this.#current = Number.POSITIVE_INFINITY;
    this.#windowStart = now - (elapsed % this.#windowMs);
  }
}

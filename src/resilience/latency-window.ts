/**
 * A quantile of the last `size` latencies: the hedge delay `"p95"`. Recomputed every `every` new
 * samples (a sort of `size` numbers), not per read; undefined until `every` have been seen.
 *
 * @example
 * const window = new LatencyWindow(0.95);
 * window.record(1.7);
 * window.quantile(); // undefined until 32 samples, then their 95th percentile
 */
export class LatencyWindow {
  readonly #q: number;
  readonly #samples: Float64Array;
  readonly #every: number;
  #count = 0;
  #sinceUpdate = 0;
  #value: number | undefined;

  constructor(q: number, size = 256, every = 32) {
    this.#q = q;
    this.#samples = new Float64Array(size);
    this.#every = every;
  }

  record(ms: number): void {
    this.#samples[this.#count % this.#samples.length] = ms;
    this.#count++;
    if (++this.#sinceUpdate >= this.#every) {
      this.#sinceUpdate = 0;
      const filled = this.#samples.slice(0, Math.min(this.#count, this.#samples.length)).sort();
      this.#value = filled[Math.min(filled.length - 1, Math.floor(this.#q * filled.length))];
    }
  }

  /** The quantile of the recent samples; undefined before the first `every`. */
  quantile(): number | undefined {
    return this.#value;
  }
}

/** How long to wait before a retry: capped exponential growth, full jitter. */
export interface BackoffSettings {
  /** Ceiling of the first retry's delay, in ms. */
  readonly minTimeout: number;
  /** No delay exceeds this, in ms. */
  readonly maxTimeout: number;
  /** Growth per retry. */
  readonly factor: number;
}

/**
 * The delay before retry number `retry` (1 for the first retry): a uniform draw from
 * `[0, min(maxTimeout, minTimeout × factor^(retry−1)))` — AWS's "full jitter". async-retry's own
 * `randomize` multiplies by [1, 2), which keeps every client in step after a shared outage;
 * full jitter spreads them out.
 *
 * @param random a source of numbers in [0, 1); injectable so tests can pin the bounds.
 * @example
 * fullJitterDelay(2, { minTimeout: 50, maxTimeout: 1000, factor: 2 }) // somewhere in [0, 100)
 */
export function fullJitterDelay(retry: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const exponent = Math.max(0, retry - 1);
  const ceiling = Math.min(settings.maxTimeout, settings.minTimeout * settings.factor ** exponent);
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.floor(draw * ceiling);
}

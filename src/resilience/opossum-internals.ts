import CircuitBreaker from "opossum";

/**
 * The only place prisma-split reaches into opossum beyond `fire()` and its events, for two costs
 * measured on real point reads (bench/README.md, "the breaker"; issue 19 asks for > 1 %):
 * - a closed breaker's successful call is counted straight into opossum's rolling window (the
 *   same two counts `fire()` makes) instead of through `fire()`, whose three promises, two
 *   closures and three events per query cost 2.4 µs of a point read's 61–93 µs of CPU (2.6–4 %);
 * - opossum 9 keeps every call's latency for the whole window even with
 *   `rollingPercentilesEnabled: false` (its `Status.increment` ignores the flag): at 20 000
 *   queries/s that is 200 000 numbers per node, held for 10 s; counts are all the breaker needs.
 * Failures and the half-open trial still go through `fire()`: opossum makes every decision.
 * test/unit/opossum-internals.test.ts breaks when opossum changes either.
 */

/** The part of opossum's Status the closed breaker's fast path writes to. */
export interface CountingWindow {
  increment(property: "fires" | "successes" | "failures"): void;
}

/** opossum's rolling window, counting calls without a latency list. */
export function countingStatus(settings: {
  rollingCountTimeout: number;
  rollingCountBuckets: number;
}): CircuitBreaker.Status {
  const status = CircuitBreaker.newStatus({
    rollingCountTimeout: settings.rollingCountTimeout,
    rollingCountBuckets: settings.rollingCountBuckets,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  } as CircuitBreaker.StatusOptions);
  const counting = status as unknown as { window: Array<Record<string, number>>; increment(property: string): void };
  counting.increment = function increment(this: typeof counting, property: string) {
    const bucket = this.window[0];
    if (bucket !== undefined) bucket[property] = (bucket[property] ?? 0) + 1;
  };
  return status;
}

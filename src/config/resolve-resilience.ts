import { DEFAULTS } from "./defaults.js";
import type { CreateDbOptions } from "./options.js";
import type { Resolved } from "./rules.js";
import { RULES } from "./schema.js";

/**
 * opossum's options that prisma-split sets, with database-minded values. `timeout` is the
 * statement time bound of the node's connections (config/time-bounds.ts): opossum's own timer is
 * not used, since it fired while the server still ran the query and could not tell a slow query
 * from a dead server.
 */
export type BreakerSettings = Resolved<typeof DEFAULTS.breaker>;

/** Limits of a node's retry budget. */
export type RetryBudgetSettings = Resolved<typeof DEFAULTS.retry.budget>;

/** How failed attempts are retried: async-retry's own options. */
export type RetrySettings = Omit<Resolved<typeof DEFAULTS.retry, "budget">, "budget">;

/** The failure-handling options, checked, defaults filled in; `false` where turned off. */
export interface ResolvedResilience {
  readonly breaker: BreakerSettings | false;
  readonly retry: RetrySettings | false;
  readonly budget: RetryBudgetSettings | false;
  /** `maxQueue` `Infinity`: no count bound. */
  readonly bulkhead: Resolved<typeof DEFAULTS.bulkhead> | false;
  readonly queryTimeoutMs: number | false;
}

/** Checks `breaker`, `retry`, `bulkhead` and `queryTimeoutMs`; bad values are named with their option. */
export function resolveResilience(options: CreateDbOptions<unknown>): ResolvedResilience {
  const breaker = RULES.breaker.read("breaker", options.breaker, DEFAULTS.breaker);
  const retry = RULES.retry.read("retry", options.retry, DEFAULTS.retry);
  const { budget, ...backOff } = retry || { budget: false as const };
  return {
    breaker,
    retry: retry && Object.freeze(backOff as RetrySettings),
    budget,
    bulkhead: RULES.bulkhead.read("bulkhead", options.bulkhead, DEFAULTS.bulkhead),
    queryTimeoutMs: RULES.queryTimeoutMs("queryTimeoutMs", options.queryTimeoutMs ?? DEFAULTS.queryTimeoutMs),
  };
}

import { type CreateDbOptions, RESILIENCE_DEFAULTS } from "./options.js";
import { readGroup, readNumber, timerRule, withDefaults } from "./validate.js";

/** A timer's delay that must be above 0. */
const POSITIVE_TIMER = { above: 0, unit: "milliseconds", timer: true } as const;

/** opossum's options that prisma-split sets, with database-minded values (see `RESILIENCE_DEFAULTS`). */
export interface BreakerSettings {
  /**
   * The statement time bound of the node's connections (config/time-bounds.ts). opossum's own
   * timer is not used: it fired while the server still ran the query, and could not tell a
   * slow query from a dead server.
   */
  readonly timeout: number | false;
  readonly resetTimeout: number;
  readonly errorThresholdPercentage: number;
  readonly volumeThreshold: number;
  readonly rollingCountTimeout: number;
  readonly rollingCountBuckets: number;
  /** Opens after this many node faults in a row, whatever the window holds; false = off. */
  readonly consecutiveFailures: number | false;
}

/** Limits of a node's retry budget. */
export interface RetryBudgetSettings {
  /** Retries allowed per call seen in the window (0.2 = at most one retry per five calls). */
  readonly ratio: number;
  /** Retries always allowed per window, so a quiet node can still retry its rare failure. */
  readonly minRetries: number;
  /** The window over which calls and retries are counted, in ms. */
  readonly windowMs: number;
}

/** How failed attempts are retried: async-retry's own options. */
export interface RetrySettings {
  /** Attempts after the first. */
  readonly retries: number;
  /** ms before the first retry (before `randomize` multiplies it by [1, 2)). */
  readonly minTimeout: number;
  /** ms, no wait exceeds this (before `randomize`). */
  readonly maxTimeout: number;
  /** Growth of the wait per retry. */
  readonly factor: number;
}

/** The failure-handling options, checked, defaults filled in; `false` where turned off. */
export interface ResolvedResilience {
  readonly breaker: BreakerSettings | false;
  readonly retry: RetrySettings | false;
  readonly budget: RetryBudgetSettings | false;
  /** `maxQueue` undefined: no count bound. */
  readonly bulkhead: { readonly maxQueue: number | undefined } | false;
  readonly queryTimeoutMs: number | false;
}

/** `retry` without its budget. (Typed as numbers: `typeof RESILIENCE_DEFAULTS.retry` holds the defaults' literal types.) */
export interface RetrySettings {
  readonly retries: number;
  readonly minTimeout: number;
  readonly maxTimeout: number;
  readonly factor: number;
}

/** Checks `breaker`, `retry`, `bulkhead` and `queryTimeoutMs`; bad values are named with their option. */
export function resolveResilience(options: CreateDbOptions<unknown>): ResolvedResilience {
  return {
    breaker: resolveBreaker(options.breaker),
    ...resolveRetry(options.retry),
    bulkhead: resolveBulkhead(options.bulkhead),
    queryTimeoutMs:
      options.queryTimeoutMs === undefined
        ? RESILIENCE_DEFAULTS.queryTimeoutMs
        : readNumber("queryTimeoutMs", options.queryTimeoutMs, { ...POSITIVE_TIMER, off: true }),
  };
}

function resolveBreaker(value: unknown): BreakerSettings | false {
  const given = readGroup("breaker", value, Object.keys(RESILIENCE_DEFAULTS.breaker), {
    off: true,
    refused: { capacity: "is not offered: use `bulkhead` (opossum counts its rejections as failures)" },
  });
  if (given === false) return false;
  const settings = withDefaults(RESILIENCE_DEFAULTS.breaker, given);
  return Object.freeze({
    timeout: readNumber("breaker.timeout", settings.timeout, { ...POSITIVE_TIMER, off: true }),
    resetTimeout: readNumber("breaker.resetTimeout", settings.resetTimeout, POSITIVE_TIMER),
    errorThresholdPercentage: readNumber("breaker.errorThresholdPercentage", settings.errorThresholdPercentage, {
      above: 0,
      max: 100,
    }),
    volumeThreshold: readNumber("breaker.volumeThreshold", settings.volumeThreshold, { min: 0, integer: true }),
    rollingCountTimeout: readNumber("breaker.rollingCountTimeout", settings.rollingCountTimeout, POSITIVE_TIMER),
    rollingCountBuckets: readNumber("breaker.rollingCountBuckets", settings.rollingCountBuckets, {
      min: 1,
      integer: true,
    }),
    consecutiveFailures: readNumber("breaker.consecutiveFailures", settings.consecutiveFailures, {
      min: 1,
      integer: true,
      off: true,
    }),
  });
}

function resolveRetry(value: unknown): Pick<ResolvedResilience, "retry" | "budget"> {
  const given = readGroup("retry", value, [...Object.keys(RESILIENCE_DEFAULTS.retry), "budget"], { off: true });
  if (given === false) return { retry: false, budget: false };
  const { budget, ...rest } = given;
  const merged = withDefaults(RESILIENCE_DEFAULTS.retry, rest);
  const minTimeout = readNumber("retry.minTimeout", merged.minTimeout, timerRule());
  const retry = Object.freeze({
    retries: readNumber("retry.retries", merged.retries, { min: 0, max: 2, integer: true }),
    minTimeout,
    maxTimeout: readNumber("retry.maxTimeout", merged.maxTimeout, timerRule(minTimeout)),
    factor: readNumber("retry.factor", merged.factor, { min: 1 }),
  });
  const budgetGiven = readGroup("retry.budget", budget, Object.keys(RESILIENCE_DEFAULTS.budget), { off: true });
  if (budgetGiven === false) return { retry, budget: false };
  const settings = withDefaults(RESILIENCE_DEFAULTS.budget, budgetGiven);
  return {
    retry,
    budget: Object.freeze({
      ratio: readNumber("retry.budget.ratio", settings.ratio, { min: 0, max: 1 }),
      minRetries: readNumber("retry.budget.minRetries", settings.minRetries, { min: 0, integer: true }),
      windowMs: readNumber("retry.budget.windowMs", settings.windowMs, { above: 0, unit: "milliseconds" }),
    }),
  };
}

function resolveBulkhead(value: unknown): ResolvedResilience["bulkhead"] {
  const given = readGroup("bulkhead", value, ["maxQueue"], { off: true });
  if (given === false) return false;
  if (given.maxQueue === undefined) return { maxQueue: undefined };
  return { maxQueue: readNumber("bulkhead.maxQueue", given.maxQueue, { min: 0, integer: true }) };
}

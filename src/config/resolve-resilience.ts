import { ConfigurationError } from "../errors.js";
import { type CreateDbOptions, RESILIENCE_DEFAULTS } from "./options.js";

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

interface NumberRule {
  readonly min?: number;
  /** Values must be strictly above `min`. */
  readonly above?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

/** Checks `breaker`, `retry`, `bulkhead` and `queryTimeoutMs`; bad values are named with their option. */
export function resolveResilience(options: CreateDbOptions<unknown>): ResolvedResilience {
  return {
    breaker: resolveBreaker(options.breaker),
    ...resolveRetry(options.retry),
    bulkhead: resolveBulkhead(options.bulkhead),
    queryTimeoutMs:
      options.queryTimeoutMs === undefined || options.queryTimeoutMs === false
        ? RESILIENCE_DEFAULTS.queryTimeoutMs
        : checkNumber("queryTimeoutMs", options.queryTimeoutMs, { above: 0 }),
  };
}

function resolveBreaker(value: unknown): BreakerSettings | false {
  if (typeof value === "object" && value !== null && "capacity" in value) {
    throw new ConfigurationError(
      "breaker.capacity",
      "is not offered: use `bulkhead` (opossum counts its rejections as failures)",
    );
  }
  const given = group("breaker", value, [...Object.keys(RESILIENCE_DEFAULTS.breaker)]);
  if (given === false) return false;
  const settings = { ...RESILIENCE_DEFAULTS.breaker, ...given } as BreakerSettings;
  if (settings.timeout !== false) checkNumber("breaker.timeout", settings.timeout, { above: 0 });
  checkNumber("breaker.resetTimeout", settings.resetTimeout, { above: 0 });
  checkNumber("breaker.errorThresholdPercentage", settings.errorThresholdPercentage, { above: 0, max: 100 });
  checkNumber("breaker.volumeThreshold", settings.volumeThreshold, { min: 0, integer: true });
  checkNumber("breaker.rollingCountTimeout", settings.rollingCountTimeout, { above: 0 });
  checkNumber("breaker.rollingCountBuckets", settings.rollingCountBuckets, { min: 1, integer: true });
  if (settings.consecutiveFailures !== false) {
    checkNumber("breaker.consecutiveFailures", settings.consecutiveFailures, { min: 1, integer: true });
  }
  return Object.freeze(settings);
}

function resolveRetry(value: unknown): Pick<ResolvedResilience, "retry" | "budget"> {
  const given = group("retry", value, [...Object.keys(RESILIENCE_DEFAULTS.retry), "budget"]);
  if (given === false) return { retry: false, budget: false };
  const { budget, ...rest } = given as Record<string, unknown> & { budget?: unknown };
  const retry = { ...RESILIENCE_DEFAULTS.retry, ...rest };
  checkNumber("retry.retries", retry.retries, { min: 0, max: 2, integer: true });
  checkNumber("retry.minTimeout", retry.minTimeout, { min: 0 });
  checkNumber("retry.maxTimeout", retry.maxTimeout, { min: retry.minTimeout });
  checkNumber("retry.factor", retry.factor, { min: 1 });
  const budgetGiven = group("retry.budget", budget, Object.keys(RESILIENCE_DEFAULTS.budget));
  if (budgetGiven === false) return { retry: Object.freeze(retry), budget: false };
  const settings = { ...RESILIENCE_DEFAULTS.budget, ...budgetGiven } as RetryBudgetSettings;
  checkNumber("retry.budget.ratio", settings.ratio, { min: 0, max: 1 });
  checkNumber("retry.budget.minRetries", settings.minRetries, { min: 0, integer: true });
  checkNumber("retry.budget.windowMs", settings.windowMs, { above: 0 });
  return { retry: Object.freeze(retry), budget: Object.freeze(settings) };
}

function resolveBulkhead(value: unknown): ResolvedResilience["bulkhead"] {
  const given = group("bulkhead", value, ["maxQueue"]);
  if (given === false) return false;
  const maxQueue = given.maxQueue;
  if (maxQueue === undefined) return { maxQueue: undefined };
  return { maxQueue: checkNumber("bulkhead.maxQueue", maxQueue, { min: 0, integer: true }) };
}

/** An options group: undefined → {}, false → false, else an object whose keys are all known. */
function group(name: string, value: unknown, known: readonly string[]): Record<string, unknown> | false {
  if (value === undefined) return {};
  if (value === false) return false;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigurationError(name, `must be an options object or false, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ConfigurationError(`${name}.${key}`, `is not an option; known: ${known.join(", ")}`);
    }
  }
  return value as Record<string, unknown>;
}

function checkNumber(name: string, value: unknown, rule: NumberRule): number {
  const valid =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max) &&
    (!rule.integer || Number.isInteger(value));
  if (!valid) {
    const bounds = [
      rule.integer ? "an integer" : "a number",
      rule.min !== undefined ? `≥ ${rule.min}` : undefined,
      rule.above !== undefined ? `> ${rule.above}` : undefined,
      rule.max !== undefined ? `≤ ${rule.max}` : undefined,
    ]
      .filter(Boolean)
      .join(" ");
    throw new ConfigurationError(name, `must be ${bounds}, got ${describe(value)}`);
  }
  return value as number;
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

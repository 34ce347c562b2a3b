import { describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { DEFAULTS } from "../../src/config/defaults.ts";
import type { CreateDbOptions } from "../../src/config/options.ts";
import { resolveResilience } from "../../src/config/resolve-resilience.ts";
import { tightestBound, withTimeBounds } from "../../src/config/time-bounds.ts";
import { configRefusal } from "./config-refusal.ts";

const resolve = (options: object) => resolveResilience(options as CreateDbOptions<unknown>);

function refusal(options: object): { setting: string; message: string } {
  return configRefusal(() => resolve(options));
}

describe("resolveResilience", () => {
  it("fills every default from DEFAULTS, which is frozen", () => {
    const resolved = resolve({});
    const { budget, ...backOff } = DEFAULTS.retry;
    expect(resolved.breaker).toEqual(DEFAULTS.breaker);
    expect(resolved.retry).toEqual(backOff);
    expect(resolved.budget).toEqual(budget);
    expect(resolved.bulkhead).toEqual({ maxQueue: Number.POSITIVE_INFINITY });
    expect(resolved.queryTimeoutMs).toBe(false);
    expect(Object.isFrozen(DEFAULTS) && Object.isFrozen(DEFAULTS.breaker)).toBe(true);
  });

  it("false turns each feature off", () => {
    expect(resolve({ breaker: false, retry: false, bulkhead: false, queryTimeoutMs: false })).toEqual({
      breaker: false,
      retry: false,
      budget: false,
      bulkhead: false,
      queryTimeoutMs: false,
    });
    expect(resolve({ retry: { budget: false } }).budget).toBe(false);
  });

  it("merges partial groups over the defaults", () => {
    const resolved = resolve({ breaker: { resetTimeout: 1000 }, retry: { retries: 1, budget: { ratio: 0.1 } } });
    expect(resolved.breaker).toMatchObject({ resetTimeout: 1000, volumeThreshold: 10 });
    expect(resolved.retry).toMatchObject({ retries: 1, minTimeout: 50 });
    expect(resolved.budget).toMatchObject({ ratio: 0.1, minRetries: 10 });
  });

  it.each([
    [{ breaker: true }, "breaker", /options object \{ timeout, resetTimeout, .* \} or false, got true/],
    [{ breaker: { capacity: 10 } }, "breaker.capacity", /use `bulkhead`/],
    [{ breaker: { timout: 10 } }, "breaker.timout", /is not an option; known: timeout/],
    [{ breaker: { timeout: 0 } }, "breaker.timeout", /> 0, or false to turn it off; got 0/],
    [{ breaker: { errorThresholdPercentage: 150 } }, "breaker.errorThresholdPercentage", /≤ 100, got 150/],
    [{ breaker: { volumeThreshold: 1.5 } }, "breaker.volumeThreshold", /an integer/],
    [{ retry: { retries: 5 } }, "retry.retries", /from 0 to 2, got 5/],
    [{ retry: { minTimeout: 100, maxTimeout: 10 } }, "retry.maxTimeout", /≥ 100, got 10/],
    [{ retry: { budget: { ratio: "0.2" } } }, "retry.budget.ratio", /got "0.2"/],
    [{ bulkhead: { maxQueue: -1 } }, "bulkhead.maxQueue", /≥ 0, got -1/],
    [{ queryTimeoutMs: Number.NaN }, "queryTimeoutMs", /got NaN/],
  ])("refuses %j naming %s", (options, setting, message) => {
    const error = refusal(options);
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
  });
});

describe("withTimeBounds", () => {
  const settings = (url: string) => parseConnectionUrl(url, "primaryUrl");
  const bound = (url: string, ms: number | false) => {
    const parsed = settings(url);
    return withTimeBounds(parsed, ms, parsed.pgbouncer);
  };

  it("sets statement_timeout to the bound (lifted in transactions) and pg's query_timeout a second later", () => {
    const bounded = bound("postgresql://u:pw@h/db?connection_limit=3", 10_000);
    const params = new URL(bounded.connectionString).searchParams;
    expect([params.get("statement_timeout"), params.get("query_timeout")]).toEqual(["10000", "11000"]);
    expect(bounded.statementBoundMs).toBe(10_000);
  });

  it("keeps the URL's own statement_timeout (never lifted) and bounds the client after it", () => {
    const bounded = bound("postgresql://h/db?statement_timeout=60000", 10_000);
    const params = new URL(bounded.connectionString).searchParams;
    expect([params.get("statement_timeout"), params.get("query_timeout")]).toEqual(["60000", "61000"]);
    expect(bounded.statementBoundMs).toBeUndefined();
  });

  it("sends no statement_timeout through PgBouncer, which refuses unknown startup parameters", () => {
    const bounded = bound("postgresql://h/db?pgbouncer=true", 5_000);
    const params = new URL(bounded.connectionString).searchParams;
    expect([params.get("statement_timeout"), params.get("query_timeout")]).toEqual([null, "6000"]);
  });

  it("leaves pool_timeout alone: waiting for a connection is bounded by it, not by the statement bound", () => {
    expect(bound("postgresql://h/db?pool_timeout=30", 10_000).poolTimeoutMs).toBe(30_000);
  });

  it("changes nothing without a bound", () => {
    const plain = settings("postgresql://h/db");
    expect(withTimeBounds(plain, false, false)).toBe(plain);
  });

  it("tightestBound picks the smallest bound that is on", () => {
    expect(tightestBound(false, 10_000, 3_000)).toBe(3_000);
    expect(tightestBound(false, false)).toBe(false);
  });
});

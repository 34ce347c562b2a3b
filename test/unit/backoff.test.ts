import { describe, expect, it } from "vitest";
import { fullJitterDelay } from "../../src/resilience/backoff.ts";

const settings = { minTimeout: 50, maxTimeout: 1_000, factor: 2 };

describe("fullJitterDelay", () => {
  it("draws from [0, min(cap, base × factor^(n−1))): the ceiling doubles per retry, then stays at the cap", () => {
    const almostOne = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((retry) => fullJitterDelay(retry, settings, almostOne))).toEqual([
      49, 99, 199, 399, 799, 999, 999, 999,
    ]);
  });

  it("can be zero: full jitter, not async-retry's [1, 2) × base", () => {
    expect(fullJitterDelay(1, settings, () => 0)).toBe(0);
    expect(fullJitterDelay(4, settings, () => 0.5)).toBe(200);
  });

  it("stays within its bounds for many random draws", () => {
    for (let retry = 1; retry <= 8; retry++) {
      const ceiling = Math.min(1_000, 50 * 2 ** (retry - 1));
      for (let i = 0; i < 500; i++) {
        const delay = fullJitterDelay(retry, settings);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });

  it("spreads delays out rather than keeping clients in step", () => {
    const delays = new Set(Array.from({ length: 200 }, () => fullJitterDelay(3, settings)));
    expect(delays.size).toBeGreaterThan(50);
  });

  it("clamps a random source outside [0, 1)", () => {
    expect(fullJitterDelay(1, settings, () => -3)).toBe(0);
    expect(fullJitterDelay(1, settings, () => 7)).toBe(50);
  });
});

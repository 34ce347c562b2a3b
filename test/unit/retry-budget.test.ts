import { describe, expect, it } from "vitest";
import { RetryBudget } from "../../src/resilience/retry-budget.ts";

function budgetAt(settings = { ratio: 0.2, minRetries: 3, windowMs: 10_000 }) {
  const clock = { now: 1_000_000 };
  return { clock, budget: new RetryBudget(settings, () => clock.now) };
}

function spend(budget: RetryBudget, tries: number): number {
  let granted = 0;
  for (let i = 0; i < tries; i++) if (budget.tryRetry()) granted++;
  return granted;
}

describe("RetryBudget", () => {
  it("allows the floor even without calls", () => {
    const { budget } = budgetAt();
    expect(spend(budget, 10)).toBe(3);
  });

  it("allows floor + ratio × calls over the window, no more", () => {
    const { budget } = budgetAt();
    for (let i = 0; i < 100; i++) budget.recordCall();
    expect(spend(budget, 1_000)).toBe(3 + 20);
  });

  it("a failing burst cannot retry every call: 100 calls that all fail get 23 retries, not 100", () => {
    const { budget } = budgetAt();
    let retries = 0;
    for (let i = 0; i < 100; i++) {
      budget.recordCall();
      if (budget.tryRetry()) retries++;
    }
    expect(retries).toBeLessThanOrEqual(23);
    expect(retries).toBeGreaterThanOrEqual(20);
  });

  it("forgets calls and retries once they leave the window", () => {
    const { clock, budget } = budgetAt();
    for (let i = 0; i < 50; i++) budget.recordCall();
    expect(spend(budget, 100)).toBe(13);
    clock.now += 5_000;
    expect(spend(budget, 100)).toBe(0);
    clock.now += 5_000; // the first bucket has left the window
    expect(spend(budget, 100)).toBe(3);
  });

  it("survives a long idle gap and a clock that steps back", () => {
    const { clock, budget } = budgetAt();
    spend(budget, 3);
    clock.now += 10 * 60_000;
    expect(spend(budget, 10)).toBe(3);
    clock.now -= 60_000;
    expect(spend(budget, 10)).toBe(0);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SplitEvents } from "../../src/events.ts";
import { StatementTicket, statementTickets } from "../../src/pool/statement-ticket.ts";
import { Hedge, LOSER_GRACE_MS } from "../../src/resilience/hedge.ts";
import { HedgeBudget } from "../../src/resilience/hedge-budget.ts";
import { LatencyWindow } from "../../src/resilience/latency-window.ts";
import type { RouteDecision } from "../../src/routing/router.ts";

/** A Hedge racing two scripted replicas: each attempt records its ticket and waits for `settle`. */
function setup(afterMs: number, maxExtraRatio = 1) {
  const events = new SplitEvents();
  const hedged: string[] = [];
  events.on("hedge", (event) => hedged.push(`${event.node}→${event.hedgeNode}`));
  const hedge = new Hedge({ afterMs, maxExtraRatio }, events);
  const a = fakeNode("replica-0");
  const b = fakeNode("replica-1");
  const start = (target: RouteDecision) => {
    const which = target === a.decision ? a : b;
    which.tickets.push(statementTickets.getStore());
    return new Promise((resolve, reject) => Object.assign(which.settle, { resolve, reject }));
  };
  return { hedge, a, b, start, hedged };
}

describe("HedgeBudget", () => {
  it("allows ratio × reads, plus the burst, and no more", () => {
    const budget = new HedgeBudget(0.1, 10);
    expect(budget.tryHedge()).toBe(false);
    for (let i = 0; i < 1_000; i++) budget.recordRead();
    let granted = 0;
    for (let i = 0; i < 1_000; i++) if (budget.tryHedge()) granted++;
    expect(granted).toBe(10);
  });

  it("a slow cluster that would hedge every read gets ≤ 10 % more reads", () => {
    const budget = new HedgeBudget(0.1, 10);
    let hedges = 0;
    for (let i = 0; i < 10_000; i++) {
      budget.recordRead();
      if (budget.tryHedge()) hedges++;
    }
    expect(hedges).toBeLessThanOrEqual(1_000);
    expect(hedges).toBeGreaterThanOrEqual(990);
  });
});

describe("LatencyWindow", () => {
  it("gives nothing before `every` samples, then the quantile of the recent ones", () => {
    const window = new LatencyWindow(0.95, 100, 10);
    for (let i = 1; i <= 9; i++) window.record(i);
    expect(window.quantile()).toBeUndefined();
    window.record(10);
    expect(window.quantile()).toBe(10);
    for (let i = 1; i <= 100; i++) window.record(i);
    expect(window.quantile()).toBe(96);
    // Old samples leave the window: 100 fast ones push the slow ones out.
    for (let i = 0; i < 100; i++) window.record(1);
    expect(window.quantile()).toBe(1);
  });
});

/** A node and an attempt on it that settles when the test says so. */
function fakeNode(name: string) {
  const decision = { node: { name, role: "replica" }, reason: "read" } as unknown as RouteDecision;
  const settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void } = {
    resolve: () => {},
    reject: () => {},
  };
  const tickets: Array<StatementTicket | undefined> = [];
  return { decision, settle, tickets };
}

describe("Hedge.race", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a fast answer is not hedged", async () => {
    const { hedge, a, b, start, hedged } = setup(20);
    // Fill the budget: a hedge is granted from the first read on.
    const result = hedge.race(a.decision, start, () => b.decision, undefined);
    a.settle.resolve("from a");
    await expect(result).resolves.toBe("from a");
    await vi.advanceTimersByTimeAsync(50);
    expect(hedged).toEqual([]);
    expect(b.tickets).toEqual([]);
  });

  it("a slow answer is also asked of the other replica; the first answer wins and the loser is cancelled", async () => {
    const { hedge, a, b, start, hedged } = setup(20);
    const result = hedge.race(a.decision, start, () => b.decision, undefined);
    await vi.advanceTimersByTimeAsync(19);
    expect(b.tickets).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(hedged).toEqual(["replica-0→replica-1"]);
    expect(b.tickets).toHaveLength(1);
    b.settle.resolve("from b");
    await expect(result).resolves.toBe("from b");
    // Each attempt ran under its own ticket; the loser's is expired (its statement cancelled)
    // once it has run on for the grace.
    expect(a.tickets[0]).toBeInstanceOf(StatementTicket);
    expect(a.tickets[0]).not.toBe(b.tickets[0]);
    await vi.advanceTimersByTimeAsync(LOSER_GRACE_MS - 1);
    expect(a.tickets[0]?.expired).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.tickets[0]?.expired).toBe(true);
    expect(b.tickets[0]?.expired).toBe(false);
  });

  it("a loser that ends within the grace is not cancelled", async () => {
    const { hedge, a, b, start } = setup(20);
    const result = hedge.race(a.decision, start, () => b.decision, undefined);
    await vi.advanceTimersByTimeAsync(20);
    b.settle.resolve("from b");
    await expect(result).resolves.toBe("from b");
    await vi.advanceTimersByTimeAsync(LOSER_GRACE_MS / 2);
    a.settle.resolve("from a, late");
    await vi.advanceTimersByTimeAsync(LOSER_GRACE_MS);
    expect(a.tickets[0]?.expired).toBe(false);
  });

  it("when one attempt fails, the other may still answer; when both fail, the first's failure is the answer", async () => {
    const { hedge, a, b, start } = setup(20);
    const rescued = hedge.race(a.decision, start, () => b.decision, undefined);
    await vi.advanceTimersByTimeAsync(20);
    a.settle.reject(new Error("a failed"));
    b.settle.resolve("from b");
    await expect(rescued).resolves.toBe("from b");

    const failed = hedge.race(a.decision, start, () => b.decision, undefined);
    await vi.advanceTimersByTimeAsync(20);
    b.settle.reject(new Error("b failed"));
    a.settle.reject(new Error("a failed"));
    await expect(failed).rejects.toThrow("a failed");
  });

  it("a first attempt that fails before the delay fails at once: no hedge", async () => {
    const { hedge, a, b, start, hedged } = setup(20);
    const result = hedge.race(a.decision, start, () => b.decision, undefined);
    a.settle.reject(new Error("a failed"));
    await expect(result).rejects.toThrow("a failed");
    await vi.advanceTimersByTimeAsync(50);
    expect(hedged).toEqual([]);
  });

  it("no hedge where none may go (a pin, no other replica) or when the budget is spent", async () => {
    const { hedge, a, b, start, hedged } = setup(20, 0.01);
    const pinned = hedge.race(a.decision, start, () => undefined, undefined);
    await vi.advanceTimersByTimeAsync(20);
    a.settle.resolve(1);
    await pinned;
    // 0.01 of a token per read: the budget is empty for the first hundred reads.
    const poor = hedge.race(a.decision, start, () => b.decision, undefined);
    await vi.advanceTimersByTimeAsync(20);
    a.settle.resolve(2);
    await poor;
    expect(hedged).toEqual([]);
  });

  it("the call's own ticket ($withDeadline) expires both attempts", async () => {
    const { hedge, a, b, start } = setup(20);
    const outer = new StatementTicket();
    const result = hedge.race(a.decision, start, () => b.decision, outer);
    result.catch(() => {});
    await vi.advanceTimersByTimeAsync(20);
    outer.expire();
    expect(a.tickets[0]?.expired).toBe(true);
    expect(b.tickets[0]?.expired).toBe(true);
  });
});

describe("Hedge.race of a statement other calls may share", () => {
  it("leaves the loser to finish instead of cancelling it", async () => {
    vi.useFakeTimers();
    try {
      const { hedge, a, b, start } = setup(10);
      const result = hedge.race(a.decision, start, () => b.decision, undefined, false);
      await vi.advanceTimersByTimeAsync(10);
      b.settle.resolve("from b");
      await expect(result).resolves.toBe("from b");
      await vi.advanceTimersByTimeAsync(LOSER_GRACE_MS);
      expect(a.tickets[0]?.expired).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

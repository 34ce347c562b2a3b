import { describe, expect, it } from "vitest";
import { LatencyEwma } from "../../src/nodes/latency-ewma.ts";
import { fastest } from "../../src/routing/selectors/fastest.ts";
import type { ReplicaCandidate } from "../../src/routing/selectors/index.ts";
import { resolveSelector } from "../../src/routing/selectors/index.ts";

const replica = (index: number, latencyMs: number | undefined, inFlight = 0): ReplicaCandidate => ({
  name: `replica-${index}`,
  index,
  inFlight,
  latencyMs,
});

/** A source of randomness that returns the given values in turn. */
const sequence = (...values: number[]) => {
  let next = 0;
  return () => values[next++ % values.length] as number;
};

describe("LatencyEwma", () => {
  it("takes a slower answer at once and blends faster ones in by the time that passed", () => {
    const clock = { now: 0 };
    const latency = new LatencyEwma(1_000, () => clock.now);
    expect(latency.estimate()).toBeUndefined();
    latency.observe(2);
    expect(latency.estimate()).toBe(2);
    latency.observe(10);
    expect(latency.estimate()).toBe(10);
    // One faster answer a moment later moves the average a little, not all the way.
    clock.now = 10;
    latency.observe(1);
    const blended = latency.estimateAt(10);
    expect(blended).toBeLessThan(10);
    expect(blended).toBeGreaterThan(9.8);
  });

  it("fades toward zero while no answer comes, so an avoided node is tried again", () => {
    const clock = { now: 0 };
    const latency = new LatencyEwma(1_000, () => clock.now);
    latency.observe(200);
    clock.now = 1_000;
    expect(latency.estimate()).toBeCloseTo(200 / Math.E, 6);
    clock.now = 10_000;
    expect(latency.estimate()).toBeLessThan(0.01);
  });

  it("a failure only ever makes the node look slower", () => {
    const clock = { now: 0 };
    const latency = new LatencyEwma(1_000, () => clock.now);
    latency.observe(20);
    latency.penalize(1);
    expect(latency.estimate()).toBe(20);
    latency.penalize(300);
    expect(latency.estimate()).toBe(300);
  });
});

describe('"fastest" selector (power of two choices by latency × load)', () => {
  it("of the two it draws, takes the one with the lower answer time", () => {
    const select = fastest(sequence(0, 0.5));
    // Draws index 0, then index 1 of the remaining two (= candidate 2).
    expect(select([replica(0, 8), replica(1, 1), replica(2, 2)]).index).toBe(2);
    const again = fastest(sequence(0.9, 0));
    // Draws candidate 2, then candidate 0.
    expect(again([replica(0, 1), replica(1, 1), replica(2, 5)]).index).toBe(0);
  });

  it("never draws the same candidate twice: with two, the better of both", () => {
    for (const draw of [0, 0.3, 0.6, 0.99]) {
      const select = fastest(sequence(draw, draw));
      expect(select([replica(0, 5), replica(1, 1)]).index).toBe(1);
      expect(select([replica(0, 1), replica(1, 5)]).index).toBe(0);
    }
  });

  it("weighs queries in flight: a fast replica that is busy loses to a slower idle one", () => {
    const select = fastest(sequence(0, 0));
    expect(select([replica(0, 1, 4), replica(1, 2, 0)]).index).toBe(1);
    expect(select([replica(0, 1, 1), replica(1, 2, 0)]).index).toBe(0);
  });

  it("a replica that has not answered yet costs nothing: it gets reads at once", () => {
    const select = fastest(sequence(0, 0));
    expect(select([replica(0, 1), replica(1, undefined)]).index).toBe(1);
  });

  it("with one candidate, that one; among three, the slow one loses every draw", () => {
    expect(fastest()([replica(0, 3)]).index).toBe(0);
    const select = fastest();
    const candidates = [replica(0, 1), replica(1, 1), replica(2, 6)];
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i++) {
      const chosen = select(candidates).index;
      counts[chosen] = (counts[chosen] ?? 0) + 1;
    }
    // Every draw pits the slow one against a faster one: it loses every time.
    expect(counts[2]).toBe(0);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it('is the built-in strategy "fastest"', () => {
    expect(typeof resolveSelector("fastest")).toBe("function");
  });
});

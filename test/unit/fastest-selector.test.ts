import { describe, expect, it } from "vitest";
import { LATENCY_DECAY_MS, LatencyEwma } from "../../src/nodes/latency-ewma.ts";
import { fastest } from "../../src/routing/selectors/fastest.ts";
import type { ReplicaCandidate } from "../../src/routing/selectors/index.ts";
import { resolveSelector } from "../../src/routing/selectors/index.ts";

const replica = (
  index: number,
  latencyMs: number | undefined,
  inFlight = 0,
  connections?: number,
): ReplicaCandidate => ({
  name: `replica-${index}`,
  index,
  inFlight,
  latencyMs,
  ...(connections === undefined ? {} : { connections }),
});

interface SimulatedReplica {
  readonly candidate: {
    name: string;
    index: number;
    inFlight: number;
    statements: number;
    connections: number;
    latencyMs?: number;
  };
  readonly serviceMs: number;
  readonly latency: LatencyEwma;
  busy: number;
  readonly queue: number[];
  reads: number;
}

/**
 * `callers` closed-loop readers (each sends its next read `thinkMs` after the last answer) on
 * replicas of `connections` connections each, whose statements take `serviceMs` each, FIFO in
 * their pool beyond that; every node's latency fed with its statement times on a fake clock, as
 * DbNode does. Returns the share of reads each replica got and the p99 of the callers' waits.
 */
function simulate(
  serviceMs: readonly number[],
  { callers = 16, connections = 5, thinkMs = 0.1, durationMs = 20_000 } = {},
) {
  const clock = { now: 0 };
  const select = fastest(mulberry32(7));
  const replicas: SimulatedReplica[] = serviceMs.map((ms, index) => ({
    candidate: { name: `replica-${index}`, index, inFlight: 0, statements: 0, connections },
    serviceMs: ms,
    latency: new LatencyEwma(LATENCY_DECAY_MS, () => clock.now),
    busy: 0,
    queue: [],
    reads: 0,
  }));
  // Pending events, kept sorted by time: a caller's next read, or a statement's answer.
  const events: { at: number; kind: "read" | "answer"; replica?: SimulatedReplica; issuedAt: number }[] = [];
  const schedule = (event: (typeof events)[number]) => {
    let at = events.length;
    while (at > 0 && (events[at - 1] as (typeof events)[number]).at > event.at) at--;
    events.splice(at, 0, event);
  };
  const waits: number[] = [];
  for (let caller = 0; caller < callers; caller++) schedule({ at: caller * 0.01, kind: "read", issuedAt: 0 });
  while (events.length > 0) {
    const event = events.shift() as (typeof events)[number];
    clock.now = event.at;
    if (event.kind === "read") {
      if (clock.now > durationMs) continue;
      for (const r of replicas) r.candidate.latencyMs = r.latency.estimate();
      const chosen = select(replicas.map((r) => r.candidate));
      const replica = replicas[chosen.index] as SimulatedReplica;
      replica.candidate.inFlight++;
      replica.candidate.statements++;
      replica.reads++;
      if (replica.busy < connections) {
        replica.busy++;
        schedule({ at: clock.now + replica.serviceMs, kind: "answer", replica, issuedAt: clock.now });
      } else {
        replica.queue.push(clock.now);
      }
      continue;
    }
    const replica = event.replica as SimulatedReplica;
    replica.latency.observe(replica.serviceMs);
    replica.candidate.inFlight--;
    replica.candidate.statements--;
    waits.push(clock.now - event.issuedAt);
    schedule({ at: clock.now + thinkMs, kind: "read", issuedAt: 0 });
    const next = replica.queue.shift();
    if (next === undefined) replica.busy--;
    else schedule({ at: clock.now + replica.serviceMs, kind: "answer", replica, issuedAt: next });
  }
  const total = replicas.reduce((sum, r) => sum + r.reads, 0);
  waits.sort((a, b) => a - b);
  return {
    shares: replicas.map((r) => r.reads / total),
    p99: waits[Math.ceil(0.99 * waits.length) - 1] as number,
  };
}

/** A seeded source of randomness, so the simulation is the same every run. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A source of randomness that returns the given values in turn. */
const sequence = (...values: number[]) => {
  let next = 0;
  return () => values[next++ % values.length] as number;
};

describe("LatencyEwma", () => {
  it("is the fastest answer of the current and the previous window: a node that turns slow shows within two", () => {
    const clock = { now: 0 };
    const latency = new LatencyEwma(1_000, () => clock.now, 500);
    expect(latency.estimate()).toBeUndefined();
    latency.observe(2);
    expect(latency.estimate()).toBe(2);
    latency.observe(10);
    expect(latency.estimate()).toBe(2);
    // The next window: the last one's 2 ms still counts.
    clock.now = 600;
    latency.observe(12);
    expect(latency.estimate()).toBe(2);
    // The one after: only 12 and what comes now are recent.
    clock.now = 1_100;
    latency.observe(11);
    expect(latency.estimate()).toBe(11);
  });

  it("leaves out a busy client's wait for its event loop: 0.3 ms + up to 20 ms of lag reads 0.3, 5.3 ms + lag reads 5.3", () => {
    const clock = { now: 0 };
    const fast = new LatencyEwma(1_000, () => clock.now, 500);
    const slow = new LatencyEwma(1_000, () => clock.now, 500);
    const lag = mulberry32(3);
    for (let i = 0; i < 2_000; i++) {
      clock.now = i;
      fast.observe(0.3 + 20 * lag());
      slow.observe(5.3 + 20 * lag());
    }
    expect(fast.estimate()).toBeLessThan(0.5);
    expect(slow.estimate()).toBeGreaterThan(5.3);
    expect(slow.estimate()).toBeLessThan(5.5);
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

  it("counts a pool's queue once: 15 reads on 5 connections cost 4 statement times, not 16", () => {
    const select = fastest(sequence(0, 0));
    // 0.5 ms × (1 + 15/5) = 2 ms beats 5.5 ms × 1: the read waits less behind the queue.
    expect(select([replica(0, 0.5, 15, 5), replica(1, 5.5, 0, 5)]).index).toBe(0);
    // A queue long enough to take longer than the slower one's answer: the read goes there.
    expect(select([replica(0, 0.5, 60, 5), replica(1, 5.5, 0, 5)]).index).toBe(1);
    // Without `connections` a candidate counts as one connection: latency × (in flight + 1).
    expect(select([replica(0, 0.5, 15), replica(1, 5.5, 0)]).index).toBe(1);
  });

  it("counts the pool's statements, not calls still in Prisma: 16 in flight, 2 of them on connections", () => {
    const select = fastest(sequence(0, 0));
    const busyClient = { ...replica(0, 2.3, 16, 5), statements: 2 };
    const slow = { ...replica(1, 7.3, 0, 5), statements: 0 };
    // 2.3 × (1 + 2/5) = 3.2 ms against 7.3: the slow one's 5 ms are what decides.
    expect(select([busyClient, slow]).index).toBe(0);
    // Counted by inFlight, the same replica would cost 2.3 × (1 + 16/5) = 9.7 ms and lose.
    expect(select([replica(0, 2.3, 16, 5), replica(1, 7.3, 0, 5)]).index).toBe(1);
  });

  it("16 callers, one of two replicas 5 ms slower: it gets under 1 % of the reads, and the p99 stays near the fast one's", () => {
    const healthy = simulate([0.4, 0.4]);
    const slowed = simulate([0.4, 5.4]);
    const fastAlone = simulate([0.4]);
    expect(healthy.shares[0]).toBeGreaterThan(0.4);
    expect(healthy.shares[1]).toBeGreaterThan(0.4);
    expect(slowed.shares[1]).toBeLessThan(0.01);
    // The slow one is still tried now and then, as its bad news fades: not written off.
    expect(slowed.shares[1]).toBeGreaterThan(0);
    // What the slowed cluster costs over the fast replica alone: its rare probes, not its reads.
    expect(slowed.p99).toBeLessThanOrEqual(fastAlone.p99 * 1.2);
    expect(slowed.p99).toBeLessThan(5.4);
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

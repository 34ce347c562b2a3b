import { describe, expect, it } from "vitest";
import { DatabaseUnavailableError, isDatabaseUnavailable } from "../../src/errors.ts";
import { SplitEvents } from "../../src/lifecycle/events.ts";
import type { DbNode } from "../../src/nodes/db-node.ts";
import { CallPolicy, type RetrySettings } from "../../src/resilience/call-policy.ts";
import type { BreakerSettings } from "../../src/resilience/circuit-breaker.ts";
import { NodeGuard } from "../../src/resilience/node-guard.ts";
import { type RouteDecision, Router } from "../../src/routing/router.ts";
import { roundRobin } from "../../src/routing/selectors/round-robin.ts";
import { capturedError } from "../fixtures/faults/index.ts";

type Outcome = string | Error;

/** A node whose queries answer from a script: each call takes the next outcome (the last repeats). */
function fakeNode(name: string, role: "primary" | "replica", index: number, script: Outcome[] = ["ok"]) {
  const node = {
    name,
    role,
    index,
    inFlight: 0,
    outOfRotation: new Set<string>(),
    breakerState: "closed",
    policy: undefined as DbNode["policy"],
    settings: { poolMax: 2, poolTimeoutMs: 0 },
    calls: 0,
    get servesReads() {
      return this.outOfRotation.size === 0;
    },
    run<T>(start: () => PromiseLike<T>): Promise<T> {
      return Promise.resolve(start());
    },
    execute<T>(start: () => PromiseLike<T>): Promise<T> {
      return this.policy ? this.policy.execute(start) : this.run(start);
    },
    answer(): Promise<string> {
      const outcome = script[Math.min(this.calls, script.length - 1)]!;
      this.calls++;
      return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(`${outcome}@${name}`);
    },
  };
  return node;
}
type FakeNode = ReturnType<typeof fakeNode>;

const fastRetry: RetrySettings = { retries: 2, minTimeout: 10, maxTimeout: 100, factor: 2 };

function setup(
  nodes: { primary: FakeNode; replicas: FakeNode[] },
  options: { retry?: RetrySettings | false; deadlineMs?: number } = {},
) {
  const events = new SplitEvents();
  const closing = new AbortController();
  const gate = {
    get closed() {
      return false;
    },
    closingSignal: closing.signal,
    closedError: () => new DatabaseUnavailableError("closing", { role: "primary", reason: "shutting-down" }),
  };
  const router = new Router(
    nodes.primary as unknown as DbNode,
    nodes.replicas as unknown as DbNode[],
    roundRobin(),
    true,
  );
  const policy = new CallPolicy(router, events, gate, {
    retry: options.retry ?? fastRetry,
    deadlineMs: options.deadlineMs ?? false,
    random: () => 0.5,
  });
  const seen: string[] = [];
  const runner = {
    forced: undefined,
    runOn(_call: { kind: "read" | "write" }, decision: RouteDecision) {
      const node = decision.node as unknown as FakeNode;
      seen.push(node.name);
      return node.execute(() => node.answer());
    },
  };
  const run = (kind: "read" | "write") => policy.execute({ kind }, runner);
  return { events, closing, run, seen };
}

const terminated = () => capturedError("admin-shutdown-57P01");
const refused = () => capturedError("connection-refused");

describe("CallPolicy: retry, re-route and 503 mapping", () => {
  it("retries a failed read on another replica, after a full-jitter wait, and reports it", async () => {
    const replicas = [fakeNode("replica-0", "replica", 0, [terminated()]), fakeNode("replica-1", "replica", 1)];
    const { run, seen, events } = setup({ primary: fakeNode("primary", "primary", -1), replicas });
    const retries: unknown[] = [];
    events.on("retry", (event) => retries.push({ node: event.node, attempt: event.attempt, delayMs: event.delayMs }));
    await expect(run("read")).resolves.toBe("ok@replica-1");
    expect(seen).toEqual(["replica-0", "replica-1"]);
    expect(retries).toEqual([{ node: "replica-0", attempt: 1, delayMs: 5 }]);
  });

  it("falls back to the primary when every replica failed the read, and says why", async () => {
    const replicas = [fakeNode("replica-0", "replica", 0, [terminated()])];
    const { run, seen, events } = setup({ primary: fakeNode("primary", "primary", -1), replicas });
    const fallbacks: string[] = [];
    events.on("fallback", (event) => fallbacks.push(event.reason));
    await expect(run("read")).resolves.toBe("ok@primary");
    expect(seen).toEqual(["replica-0", "primary"]);
    expect(fallbacks).toEqual(["failed"]);
  });

  it("does not retry a write the server may have run (57P01); the caller gets a 503 with the cause", async () => {
    const primary = fakeNode("primary", "primary", -1, [terminated(), "ok"]);
    const { run } = setup({ primary, replicas: [] });
    const error = await run("write").catch((e: unknown) => e);
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(error).toMatchObject({ status: 503, role: "primary", node: "primary", reason: "unreachable" });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(primary.calls).toBe(1);
  });

  it("retries a write whose connection was refused: it never reached the server", async () => {
    const primary = fakeNode("primary", "primary", -1, [refused(), "ok"]);
    const { run } = setup({ primary, replicas: [] });
    await expect(run("write")).resolves.toBe("ok@primary");
    expect(primary.calls).toBe(2);
  });

  it("passes a query error on untouched, after one attempt", async () => {
    const unique = capturedError("unique-violation-P2002");
    const primary = fakeNode("primary", "primary", -1, [unique]);
    const { run } = setup({ primary, replicas: [] });
    await expect(run("write")).rejects.toBe(unique);
    expect(primary.calls).toBe(1);
  });

  it("stops after 3 attempts with reason retries-exhausted", async () => {
    const primary = fakeNode("primary", "primary", -1, [refused()]);
    const { run } = setup({ primary, replicas: [] });
    await expect(run("write")).rejects.toMatchObject({ reason: "retries-exhausted" });
    expect(primary.calls).toBe(3);
  });

  it("retry: false makes one attempt", async () => {
    const primary = fakeNode("primary", "primary", -1, [refused()]);
    const { run } = setup({ primary, replicas: [] }, { retry: false });
    await expect(run("write")).rejects.toMatchObject({ reason: "unreachable" });
    expect(primary.calls).toBe(1);
  });

  it("a write that waited pool_timeout for a connection is retried (it was never sent), then is a 503 'overloaded'", async () => {
    const primary = fakeNode("primary", "primary", -1, [capturedError("pool-acquire-timeout")]);
    const { run } = setup({ primary, replicas: [] });
    await expect(run("write")).rejects.toMatchObject({ reason: "overloaded", status: 503 });
    expect(primary.calls).toBe(3);
  });

  it("a spent retry budget stops retries", async () => {
    const primary = fakeNode("primary", "primary", -1, [refused()]);
    const events = new SplitEvents();
    primary.policy = new NodeGuard(
      primary as unknown as DbNode,
      { breaker: false, bulkhead: false, budget: { ratio: 0, minRetries: 1, windowMs: 60_000 } },
      events,
    );
    const { run } = setup({ primary, replicas: [] });
    await expect(run("write")).rejects.toMatchObject({ reason: "retries-exhausted" });
    expect(primary.calls).toBe(2);
    await expect(run("write")).rejects.toMatchObject({ reason: "unreachable" });
    expect(primary.calls).toBe(3);
  });

  it("shutdown cancels a pending retry wait at once", async () => {
    const primary = fakeNode("primary", "primary", -1, [refused()]);
    const slow = { retries: 2, minTimeout: 60_000, maxTimeout: 60_000, factor: 1 };
    const { run, closing } = setup({ primary, replicas: [] }, { retry: slow });
    const started = Date.now();
    const pending = run("write");
    setTimeout(() => closing.abort(), 20);
    await expect(pending).rejects.toMatchObject({ reason: "shutting-down" });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a deadline bounds the whole call", async () => {
    const primary = fakeNode("primary", "primary", -1);
    primary.answer = () => new Promise(() => {});
    const { run } = setup({ primary, replicas: [] }, { deadlineMs: 50 });
    await expect(run("write")).rejects.toMatchObject({
      reason: "unreachable",
      message: expect.stringMatching(/50 ms/),
    });
  });
});

/** A breaker-only guard on `node` (no bulkhead, no budget), with test settings and `overrides`. */
function guardBreaker(node: FakeNode, overrides: Partial<BreakerSettings>, events = new SplitEvents()): NodeGuard {
  const breaker: BreakerSettings = {
    timeout: false,
    resetTimeout: 60_000,
    errorThresholdPercentage: 50,
    volumeThreshold: 10,
    rollingCountTimeout: 10_000,
    rollingCountBuckets: 10,
    consecutiveFailures: false,
    ...overrides,
  };
  const guard = new NodeGuard(node as unknown as DbNode, { breaker, bulkhead: false, budget: false }, events);
  node.policy = guard;
  return guard;
}

describe("NodeGuard: breaker per node", () => {
  it("opens on infrastructure faults, takes the replica out of rotation, sends reads to the primary, reports it", async () => {
    const replica = fakeNode("replica-0", "replica", 0, [terminated()]);
    const primary = fakeNode("primary", "primary", -1);
    const { run, events, seen } = setup({ primary, replicas: [replica] }, { retry: false });
    const guard = guardBreaker(replica, { volumeThreshold: 2 }, events);
    const changes: string[] = [];
    events.on("breaker:open", (event) => changes.push(`open ${event.node}`));
    await expect(run("read")).rejects.toMatchObject({ reason: "unreachable" });
    await expect(run("read")).rejects.toMatchObject({ reason: "unreachable" });
    expect(changes).toEqual(["open replica-0"]);
    expect(replica.breakerState).toBe("open");
    expect([...replica.outOfRotation]).toEqual(["breaker"]);
    await expect(run("read")).resolves.toBe("ok@primary");
    expect(seen).toEqual(["replica-0", "replica-0", "primary"]);
    expect(guard.retryAfterSeconds()).toBe(60);
    guard.close();
  });

  it("counts query errors as successes: a thousand unique violations never open it", async () => {
    const unique = capturedError("unique-violation-P2002");
    const primary = fakeNode("primary", "primary", -1, [unique]);
    const { run } = setup({ primary, replicas: [] }, { retry: false });
    const guard = guardBreaker(primary, { errorThresholdPercentage: 1, volumeThreshold: 1 });
    for (let i = 0; i < 1_000; i++) await expect(run("write")).rejects.toBe(unique);
    expect(primary.breakerState).toBe("closed");
    guard.close();
  });

  it("the breaker's timeout bounds a hung attempt without an unhandled rejection when it settles later", async () => {
    const primary = fakeNode("primary", "primary", -1);
    let fail!: (error: Error) => void;
    primary.answer = () => new Promise((_, reject) => (fail = reject));
    const { run } = setup({ primary, replicas: [] }, { retry: false });
    const guard = guardBreaker(primary, { timeout: 30 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await expect(run("write")).rejects.toMatchObject({ reason: "unreachable", cause: { code: "ETIMEDOUT" } });
      fail(terminated());
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      guard.close();
    }
  });
});

describe("refusals and the event loop", () => {
  it("a caller looping on refused calls (every node shedding) still lets timers run", async () => {
    const shed = () => new DatabaseUnavailableError("full", { role: "primary", reason: "overloaded" });
    const primary = fakeNode("primary", "primary", -1, [shed()]);
    const replica = fakeNode("replica-0", "replica", 0, [shed()]);
    const { run } = setup({ primary, replicas: [replica] });
    let timerFired = false;
    setTimeout(() => {
      timerFired = true;
    }, 0);
    // Without a turn of the event loop per refusal this loop never sees the timer (it used to hang).
    let refusals = 0;
    while (!timerFired && refusals < 100_000) {
      await run("read").catch(() => {
        refusals++;
      });
    }
    expect(timerFired).toBe(true);
    expect(refusals).toBeLessThan(100_000);
  });
});

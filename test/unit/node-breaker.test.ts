import { afterEach, describe, expect, it, vi } from "vitest";
import { RESILIENCE_DEFAULTS } from "../../src/config/options.ts";
import type { BreakerSettings } from "../../src/config/resolve-resilience.ts";
import { toAttemptFailure } from "../../src/resilience/attempt-failure.ts";
import { type BreakerState, NodeBreaker } from "../../src/resilience/circuit-breaker.ts";
import { capturedError } from "../fixtures/faults/index.ts";

// The breaker's rules with opossum itself; the node below it answers from a script (pure logic).
// A closed breaker counts successes without going through opossum's fire(): these tests pin that
// the counts and decisions are still opossum's.

/** "task": the call's own task (a function here) answers. */
type Answer = "ok" | "refused" | "query-error" | "task";
type Task = () => Promise<unknown>;

/** The guarded run: answers each call as `answer` says, a failure classified as NodeGuard does. */
class ScriptedNode {
  answer: Answer = "ok";
  calls = 0;

  readonly run = (task: Task): Promise<unknown> => {
    this.calls++;
    if (this.answer === "task") return task();
    if (this.answer === "ok") return Promise.resolve("row");
    const error = capturedError(this.answer === "refused" ? "connection-refused" : "unique-violation-P2002");
    return Promise.reject(toAttemptFailure(error));
  };
}

const settings = (overrides: Partial<BreakerSettings>): BreakerSettings => ({
  ...RESILIENCE_DEFAULTS.breaker,
  timeout: false,
  resetTimeout: 5_000,
  consecutiveFailures: false,
  ...overrides,
});

const breakers: NodeBreaker[] = [];
afterEach(() => {
  for (const breaker of breakers.splice(0)) breaker.shutdown();
  vi.useRealTimers();
});

function setup(overrides: Partial<BreakerSettings>) {
  const node = new ScriptedNode();
  const changes: BreakerState[] = [];
  const breaker = new NodeBreaker(settings(overrides), { role: "replica", node: "replica-0" }, (state) =>
    changes.push(state),
  );
  breakers.push(breaker);
  const call = () => breaker.execute(node.run, () => Promise.resolve(undefined));
  const calls = async (count: number, answer: Answer) => {
    node.answer = answer;
    for (let i = 0; i < count; i++) await call().catch(() => undefined);
  };
  return { node, breaker, changes, call, calls };
}

describe("NodeBreaker", () => {
  it("counts a closed breaker's successes: the threshold is a share of every call, not of the failures", async () => {
    const { breaker, calls } = setup({ volumeThreshold: 10, errorThresholdPercentage: 50 });
    await calls(10, "ok");
    await calls(10, "refused");
    // 10 failures of 20 calls is 50 %, not above it.
    expect(breaker.state).toBe("closed");
    await calls(1, "refused");
    expect(breaker.state).toBe("open");
  });

  it("counts a query's own error as a success, so a thousand of them never open it", async () => {
    const { breaker, calls } = setup({ volumeThreshold: 1, errorThresholdPercentage: 1 });
    await calls(1000, "query-error");
    expect(breaker.state).toBe("closed");
  });

  it("opens on a streak of node faults; an answer in between ends the streak", async () => {
    const { breaker, calls } = setup({ volumeThreshold: 1_000, consecutiveFailures: 3 });
    await calls(100, "ok");
    await calls(2, "refused");
    await calls(1, "ok");
    await calls(2, "refused");
    expect(breaker.state).toBe("closed");
    await calls(1, "refused");
    expect(breaker.state).toBe("open");
  });

  it("hands the caller the node's own failure, and refuses with a 503 while open", async () => {
    const { node, call } = setup({ volumeThreshold: 1, errorThresholdPercentage: 1 });
    node.answer = "refused";
    await expect(call()).rejects.toMatchObject({ fault: { kind: "node" } });
    const before = node.calls;
    await expect(call()).rejects.toMatchObject({ reason: "breaker-open", role: "replica", node: "replica-0" });
    expect(node.calls).toBe(before);
  });

  it("a call admitted while closed that fails after the breaker opened gets its own failure, not opossum's", async () => {
    const { node, breaker } = setup({ volumeThreshold: 1, errorThresholdPercentage: 1 });
    let failLate: (() => void) | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      failLate = () => reject(toAttemptFailure(capturedError("connection-refused")));
    });
    node.answer = "task";
    const slow = breaker.execute(node.run, () => late);
    // Meanwhile another call opens the breaker.
    node.answer = "refused";
    await breaker.execute(node.run, () => Promise.resolve(undefined)).catch(() => undefined);
    expect(breaker.state).toBe("open");
    failLate?.();
    await expect(slow).rejects.toMatchObject({ fault: { kind: "node" } });
  });

  it("after resetTimeout lets one trial call through; its success closes the breaker", async () => {
    vi.useFakeTimers();
    const { node, breaker, changes, call, calls } = setup({ volumeThreshold: 1, errorThresholdPercentage: 1 });
    await calls(1, "refused");
    expect(breaker.state).toBe("open");
    await vi.advanceTimersByTimeAsync(5_001);
    expect(breaker.state).toBe("halfOpen");
    node.answer = "ok";
    const before = node.calls;
    await expect(call()).resolves.toBe("row");
    expect(node.calls).toBe(before + 1);
    expect(breaker.state).toBe("closed");
    expect(changes).toEqual(["open", "halfOpen", "closed"]);
  });

  it("trip() opens a closed breaker at once (a node found hung); its calls are refused without reaching it", async () => {
    const { node, breaker, changes, call } = setup({ volumeThreshold: 1_000 });
    breaker.trip();
    expect(breaker.state).toBe("open");
    await expect(call()).rejects.toMatchObject({ reason: "breaker-open" });
    expect(node.calls).toBe(0);
    expect(changes).toEqual(["open"]);
  });
});

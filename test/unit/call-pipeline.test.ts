import { afterEach, describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { RESILIENCE_DEFAULTS } from "../../src/config/options.ts";
import type { BreakerSettings, RetrySettings } from "../../src/config/resolve-resilience.ts";
import { DatabaseUnavailableError, isDatabaseConfigurationError } from "../../src/errors.ts";
import { SplitEvents } from "../../src/events.ts";
import { DbNode } from "../../src/nodes/db-node.ts";
import { CallPipeline, type PipelineCall } from "../../src/resilience/call-pipeline.ts";
import { NodeGuard, type NodeGuardSettings } from "../../src/resilience/node-guard.ts";
import { Retries } from "../../src/resilience/retries.ts";
import { Router } from "../../src/routing/router.ts";
import { roundRobin } from "../../src/routing/selectors/round-robin.ts";
import { capturedError } from "../fixtures/faults/index.ts";

// The pipeline's decisions with real nodes, guards, router and retry policy; only the query's
// answer is scripted (pure logic: which node, how often, what the caller sees). Behaviour against
// the real cluster is in test/integration/fault-semantics.test.ts.

type Outcome = string | Error;

class NoClient {
  $connect = async () => {};
  $disconnect = async () => {};
}

function node(name: string, index: number): DbNode {
  return new DbNode({
    name,
    role: index < 0 ? "primary" : "replica",
    index,
    settings: parseConnectionUrl(`postgresql://127.0.0.1:9/${name}?connection_limit=2&pool_timeout=0`, name),
    PrismaClient: NoClient as never,
    clientOptions: {},
  });
}

const nothing: NodeGuardSettings = { breaker: false, bulkhead: false, budget: false };
const fastRetry: RetrySettings = { retries: 2, minTimeout: 1, maxTimeout: 5, factor: 2 };
const breaker = (overrides: Partial<BreakerSettings>): BreakerSettings => ({
  ...RESILIENCE_DEFAULTS.breaker,
  timeout: false,
  resetTimeout: 60_000,
  consecutiveFailures: false,
  ...overrides,
});

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A primary and `replicas` replicas whose answers follow scripts (each call takes the next; the last repeats). */
function setup(
  scripts: Record<string, Outcome[]>,
  options: { replicas?: number; guard?: NodeGuardSettings; retry?: RetrySettings | false } = {},
) {
  const primary = node("primary", -1);
  const replicas = Array.from({ length: options.replicas ?? 1 }, (_, index) => node(`replica-${index}`, index));
  const events = new SplitEvents();
  const guards = new Map([primary, ...replicas].map((n) => [n, new NodeGuard(n, options.guard ?? nothing, events)]));
  for (const guard of guards.values()) closers.push(() => guard.close());
  const router = new Router(primary, replicas, roundRobin(), true);
  const closing = new AbortController();
  const closedError = () =>
    new DatabaseUnavailableError("closed", { role: "primary", reason: "shutting-down", outcome: "not-applied" });
  const gate = {
    open: true,
    closed: false,
    closingSignal: closing.signal,
    whenOpen: async () => {},
  };
  const pipeline = new CallPipeline({
    router,
    guards,
    events,
    gate,
    retries: new Retries(options.retry ?? fastRetry, closing.signal, closedError),
    deadlineMs: false,
    readYourWrites: { afterWrite: (settled) => settled },
  });
  const seen: string[] = [];
  const calls = new Map<string, number>();
  /** A call whose attempts answer from the scripts, by node. */
  const call = (kind: "read" | "write"): PipelineCall => ({
    kind,
    forced: undefined,
    batchable: false,
    operation: "findMany",
    model: "user",
    startOn(node) {
      const name = node.name;
      seen.push(name);
      const script = scripts[name] ?? ["ok"];
      const count = calls.get(name) ?? 0;
      calls.set(name, count + 1);
      const outcome = script[Math.min(count, script.length - 1)]!;
      return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(`${outcome}@${name}`);
    },
  });
  const run = (kind: "read" | "write") => pipeline.execute(call(kind));
  return { run, seen, events, guards, primary, replicas, closing };
}

const refused = () => capturedError("connection-refused");
const terminated = () => capturedError("connection-terminated-unexpectedly");

describe("CallPipeline: what follows a failure", () => {
  it("retries a read on another node after a node fault", async () => {
    const { run, seen } = setup({ "replica-0": [terminated()] });
    await expect(run("read")).resolves.toBe("ok@primary");
    expect(seen).toEqual(["replica-0", "primary"]);
  });

  it("never re-sends a write that may have run; a 503 'unreachable' with the cause", async () => {
    const { run, seen } = setup({ primary: [terminated()] });
    await expect(run("write")).rejects.toMatchObject({ reason: "unreachable", status: 503, cause: expect.anything() });
    expect(seen).toEqual(["primary"]);
  });

  it("re-sends a write that provably never reached the server, up to 3 attempts", async () => {
    const { run, seen } = setup({ primary: [refused()] });
    await expect(run("write")).rejects.toMatchObject({ reason: "retries-exhausted" });
    expect(seen).toEqual(["primary", "primary", "primary"]);
  });

  it("retries a read on the only node of a primary-only setup; after the last attempt a 503, never an internal wrapper", async () => {
    const { run, seen } = setup({ primary: [terminated()] }, { replicas: 0 });
    const error = await run("read").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: "retries-exhausted", status: 503 });
    expect(seen).toEqual(["primary", "primary", "primary"]);
  });

  it("passes the query's own error untouched and runs it once: a 57014 is not retried anywhere", async () => {
    const cancelled = capturedError("statement-timeout-57014");
    const { run, seen } = setup({ "replica-0": [cancelled] });
    await expect(run("read")).rejects.toBe(cancelled);
    expect(seen).toEqual(["replica-0"]);
  });

  it("runs a misrouted write (25006 on a replica) once on the primary, not counted against the replica", async () => {
    const readOnly = capturedError("read-only-standby-raw-25006");
    const guard = { ...nothing, breaker: breaker({ volumeThreshold: 1, errorThresholdPercentage: 1 }) };
    const { run, seen, guards, replicas } = setup({ "replica-0": [readOnly] }, { guard });
    for (let i = 0; i < 12; i++) await expect(run("read")).resolves.toBe("ok@primary");
    expect(seen.filter((name) => name === "replica-0")).toHaveLength(12);
    expect(guards.get(replicas[0]!)!.breakerState).toBe("closed");
    expect(replicas[0]!.servesReads).toBe(true);
  });

  it("fails a configuration fault at once with a DatabaseConfigurationError, never retried", async () => {
    const { run, seen } = setup({ "replica-0": [capturedError("unknown-database-3D000")] });
    const error = await run("read").catch((caught: unknown) => caught);
    expect(isDatabaseConfigurationError(error)).toBe(true);
    expect(error).toMatchObject({ problem: "unknown-database", node: "replica-0" });
    expect(error).not.toHaveProperty("status");
    expect(seen).toEqual(["replica-0"]);
  });

  it("a write that waited pool_timeout is retried (never sent), then is a 503 'overloaded'", async () => {
    const { run, seen } = setup({ primary: [capturedError("pool-acquire-timeout")] });
    await expect(run("write")).rejects.toMatchObject({ reason: "overloaded", status: 503 });
    expect(seen).toHaveLength(3);
  });

  it("retry: false makes one attempt", async () => {
    const { run, seen } = setup({ primary: [refused()] }, { retry: false });
    await expect(run("write")).rejects.toMatchObject({ reason: "unreachable" });
    expect(seen).toEqual(["primary"]);
  });

  it("a spent retry budget stops retries", async () => {
    const guard = { ...nothing, budget: { ratio: 0, minRetries: 1, windowMs: 60_000 } };
    const { run, seen } = setup({ primary: [refused()] }, { guard });
    await expect(run("write")).rejects.toMatchObject({ reason: "retries-exhausted" });
    expect(seen).toHaveLength(2);
    await expect(run("write")).rejects.toMatchObject({ reason: "unreachable" });
    expect(seen).toHaveLength(3);
  });

  it("shutdown ends a pending retry wait at once", async () => {
    const slow = { retries: 2, minTimeout: 60_000, maxTimeout: 60_000, factor: 1 };
    const { run, closing, events } = setup({ primary: [refused()] }, { retry: slow });
    const retrying = new Promise((resolve) => events.once("retry", resolve));
    const pending = run("write");
    await retrying;
    closing.abort();
    await expect(pending).rejects.toMatchObject({ reason: "shutting-down" });
  });

  it("16 calls waiting out a back-off at once trip no MaxListenersExceededWarning", async () => {
    const { run } = setup({ primary: [refused(), "ok"] });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      await Promise.all(Array.from({ length: 16 }, () => run("write").catch(() => {})));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("CallPipeline with breakers", () => {
  it("opens on node faults only, takes the replica out of rotation, sends reads to the primary", async () => {
    const guard = { ...nothing, breaker: breaker({ volumeThreshold: 2 }) };
    const { run, seen, events, guards, replicas } = setup({ "replica-0": [terminated()] }, { guard, retry: false });
    const changes: string[] = [];
    events.on("breaker:open", (event) => changes.push(`open ${event.node}`));
    await expect(run("read")).rejects.toMatchObject({ reason: "unreachable" });
    // The second failure opens the breaker: the node is out, so that read moves on (no retry spent).
    await expect(run("read")).resolves.toBe("ok@primary");
    expect(changes).toEqual(["open replica-0"]);
    expect(replicas[0]!.rotation.flags()).toEqual(["breaker"]);
    await expect(run("read")).resolves.toBe("ok@primary");
    expect(seen).toEqual(["replica-0", "replica-0", "primary", "primary"]);
    expect(guards.get(replicas[0]!)!.retryAfterSeconds()).toBe(60);
  });

  it("counts query errors and 57014s as successes: a thousand never open it", async () => {
    const guard = { ...nothing, breaker: breaker({ errorThresholdPercentage: 1, volumeThreshold: 1 }) };
    const unique = capturedError("unique-violation-P2002");
    const cancelled = capturedError("statement-timeout-57014");
    const { run, guards, primary } = setup({ primary: [unique, cancelled] }, { guard, retry: false });
    for (let i = 0; i < 1_000; i++) await run("write").catch(() => {});
    expect(guards.get(primary)!.breakerState).toBe("closed");
  });

  it("an open breaker refuses a read at once and the read goes on to the next node; a write gets the 503", async () => {
    const guard = { ...nothing, breaker: breaker({ volumeThreshold: 1, errorThresholdPercentage: 1 }) };
    const { run, seen } = setup(
      { "replica-0": [terminated(), "ok"], primary: [terminated(), "ok"] },
      { guard, retry: false },
    );
    await run("read").catch(() => {});
    await run("write").catch(() => {});
    seen.length = 0;
    await expect(run("read")).rejects.toMatchObject({ reason: "breaker-open" });
    await expect(run("write")).rejects.toMatchObject({ reason: "breaker-open" });
    expect(seen).toEqual([]);
  });
});

describe("refusals and the event loop", () => {
  it("a caller looping on refused calls (every node shedding) still lets timers run", async () => {
    const shed = () =>
      new DatabaseUnavailableError("full", { role: "primary", reason: "overloaded", outcome: "not-applied" });
    const { run } = setup({ primary: [shed()], "replica-0": [shed()] });
    let timerFired = false;
    setTimeout(() => {
      timerFired = true;
    }, 0);
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

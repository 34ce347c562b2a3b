import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { DEFAULTS } from "../../src/config/defaults.ts";
import type { NodeRole } from "../../src/errors.ts";
import { SplitEvents } from "../../src/events.ts";
import { DbNode } from "../../src/nodes/db-node.ts";
import { NodeGuard } from "../../src/resilience/node-guard.ts";
import { capturedError } from "../fixtures/faults/index.ts";

// Issue 22, point 2: a probe that finds the server answering closes the node's open breaker at
// once, with opossum itself deciding everything else; fake timers show it is not resetTimeout.

class NoClient {
  $connect = async () => {};
  $disconnect = async () => {};
}

const RESET_MS = 5_000;
const guards: NodeGuard[] = [];
afterEach(() => {
  for (const guard of guards.splice(0)) guard.close();
  vi.useRealTimers();
});

function setup(role: NodeRole) {
  vi.useFakeTimers();
  const name = role === "primary" ? "primary" : "replica-0";
  const node = new DbNode({
    name,
    role,
    index: role === "primary" ? -1 : 0,
    settings: parseConnectionUrl(`postgresql://127.0.0.1:9/${name}?connection_limit=2&pool_timeout=0`, name),
    PrismaClient: NoClient as never,
    clientOptions: {},
  });
  const events = new SplitEvents();
  const changes: string[] = [];
  for (const event of ["breaker:open", "breaker:halfOpen", "breaker:close"] as const) {
    events.on(event, () => changes.push(event));
  }
  const breaker = {
    ...DEFAULTS.breaker,
    timeout: false as const,
    resetTimeout: RESET_MS,
    consecutiveFailures: 3,
  };
  const guard = new NodeGuard(node, { breaker, bulkhead: false, budget: false }, events);
  guards.push(guard);
  const refused = () => guard.run({ startOn: () => Promise.reject(capturedError("connection-refused")) });
  const ok = () => guard.run({ startOn: () => Promise.resolve("row") });
  const open = async () => {
    for (let i = 0; i < 3; i++) await refused().catch(() => undefined);
    expect(guard.breakerState).toBe("open");
  };
  return { node, guard, changes, open, ok, refused };
}

describe("an open breaker and the probes of its node", () => {
  it("waits for a probe while open, and closes at once when the primary's server answers as a writer", async () => {
    const { node, guard, changes, open, ok } = setup("primary");
    expect(node.awaitingAnswer).toBe(false);
    await open();
    expect(node.awaitingAnswer).toBe(true);
    await expect(ok()).rejects.toMatchObject({ reason: "breaker-open", outcome: "not-applied" });

    vi.advanceTimersByTime(RESET_MS / 10);
    node.probeAnswered("primary");
    expect(guard.breakerState).toBe("closed");
    expect(changes).toEqual(["breaker:open", "breaker:close"]);
    expect(node.awaitingAnswer).toBe(false);
    expect(node.servesReads).toBe(true);
    await expect(ok()).resolves.toBe("row");
  });

  it("a primary's server answering as a standby leaves its breaker open: the follower moves writes, not the breaker", async () => {
    const { node, guard, open } = setup("primary");
    await open();
    node.probeAnswered("replica");
    expect(guard.breakerState).toBe("open");
    expect(node.awaitingAnswer).toBe(true);
  });

  it("a replica's breaker closes on any answer", async () => {
    const { node, guard, open } = setup("replica");
    await open();
    expect(node.servesReads).toBe(false);
    node.probeAnswered("replica");
    expect(guard.breakerState).toBe("closed");
    expect(node.servesReads).toBe(true);
  });

  it("without a probe it waits out resetTimeout, then opossum's half-open trial decides", async () => {
    const { node, guard, changes, open, ok } = setup("primary");
    await open();
    vi.advanceTimersByTime(RESET_MS - 1);
    expect(guard.breakerState).toBe("open");
    vi.advanceTimersByTime(1);
    expect(guard.breakerState).toBe("halfOpen");
    // Half-open is not "open": the monitor no longer hurries, the trial call is what decides.
    expect(node.awaitingAnswer).toBe(false);
    await expect(ok()).resolves.toBe("row");
    expect(changes).toEqual(["breaker:open", "breaker:halfOpen", "breaker:close"]);
  });

  it("a node that keeps failing after a probe closed its breaker opens it again by opossum's rules", async () => {
    const { node, guard, open, refused } = setup("replica");
    await open();
    node.probeAnswered("replica");
    expect(guard.breakerState).toBe("closed");
    await open();
    expect(node.awaitingAnswer).toBe(true);
    await expect(refused()).rejects.toMatchObject({ reason: "breaker-open" });
  });

  it("stops waiting when the guard closes (shutdown); a late probe reopens nothing", async () => {
    const { node, guard, open, ok } = setup("primary");
    await open();
    guard.close();
    expect(node.awaitingAnswer).toBe(false);
    node.probeAnswered("primary");
    await expect(ok()).rejects.toMatchObject({ reason: "shutting-down" });
  });
});

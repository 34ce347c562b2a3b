import { describe, expect, it } from "vitest";
import type { DbNode } from "../../src/nodes/db-node.ts";
import { ReadYourWrites } from "../../src/routing/consistency/read-your-writes.ts";
import {
  type ConsistencyPoint,
  decodeConsistencyToken,
  encodeConsistencyToken,
} from "../../src/routing/consistency/token.ts";
import type { ReadGate } from "../../src/routing/consistency/types.ts";
import { Router } from "../../src/routing/router.ts";
import { routingScope, runInConsistencyContext, runOnPrimary } from "../../src/routing/scope.ts";
import { roundRobin } from "../../src/routing/selectors/round-robin.ts";

/** Where one call of `kind` on a client tagged `forced` runs: placed, then routed, as the pipeline does. */
function routeOf(router: Router, kind: "read" | "write", forced: "primary" | "replica" | undefined) {
  return router.route(router.place(kind, forced));
}

/** A wall clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

function readYourWrites(
  mode: "off" | "session" | "lsn",
  clock: ReturnType<typeof fakeClock>,
  lsns: Array<bigint | Error> = [],
) {
  let lsnQueries = 0;
  const rw = new ReadYourWrites(
    { readYourWrites: mode, stickyMs: 1000 },
    async () => {
      lsnQueries++;
      const next = lsns.shift();
      if (next instanceof Error || next === undefined) throw next ?? new Error("no position");
      return next;
    },
    { now: clock.read },
  );
  return { rw, lsnQueries: () => lsnQueries };
}

/** A token's point, the fields not given absent. */
const point = (fields: Partial<ConsistencyPoint>): ConsistencyPoint => ({
  writtenAt: undefined,
  lsn: undefined,
  pin: undefined,
  floor: undefined,
  floorAfter: undefined,
  ...fields,
});

/** Lets the write's position query (a promise of the test's) answer. */
const positionAnswered = () => new Promise((resolve) => setImmediate(resolve));

/** The part of a DbNode the router and the monotonic rule read. */
function node(name: string, role: "primary" | "replica", replayLsn?: bigint, flags: string[] = []): DbNode {
  const outOfRotation = new Set(flags);
  return {
    name,
    role,
    index: role === "primary" ? -1 : Number(name.slice(-1)),
    inFlight: 0,
    outOfRotation,
    servesReads: outOfRotation.size === 0,
    observed: replayLsn === undefined ? undefined : { replayLsn },
    settings: { identity: `${name}:5432/app?app` },
  } as unknown as DbNode;
}

const gate = (rw: ReadYourWrites) => rw.readGate(routingScope.getStore());
const write = (rw: ReadYourWrites) => rw.afterWrite(Promise.resolve("written"));

describe("read-your-writes modes (fake clock)", () => {
  it("session: the primary for stickyMs after a write, then any replica", async () => {
    const clock = fakeClock();
    const { rw } = readYourWrites("session", clock);
    await runInConsistencyContext(async () => {
      expect(gate(rw)).toEqual({ kind: "any" });
      expect(await write(rw)).toBe("written");
      clock.now += 999;
      expect(gate(rw)).toEqual({ kind: "sticky" });
      clock.now += 1;
      expect(gate(rw)).toEqual({ kind: "any" });
    });
  });

  it("lsn: the next read asks for the write's position once; reads then need a replica that replayed it", async () => {
    const clock = fakeClock();
    const { rw, lsnQueries } = readYourWrites("lsn", clock, [500n, 400n]);
    await runInConsistencyContext(async () => {
      await write(rw);
      await write(rw); // two writes before a read: one query, sent after both
      expect(lsnQueries()).toBe(0);
      expect(gate(rw)).toEqual({ kind: "position-pending" });
      await positionAnswered();
      expect(gate(rw)).toEqual({ kind: "replayed", lsn: 500n });
      await write(rw); // a lower position (reordered) never lowers the requirement
      expect(gate(rw)).toEqual({ kind: "position-pending" });
      await positionAnswered();
      expect(gate(rw)).toEqual({ kind: "replayed", lsn: 500n });
      clock.now += 60_000;
      expect(gate(rw)).toEqual({ kind: "replayed", lsn: 500n }); // exact, not a time window
    });
    expect(lsnQueries()).toBe(2);
  });

  it("lsn: a failed write is recorded too (it may have committed), without a query that would delay its error", async () => {
    const clock = fakeClock();
    const { rw, lsnQueries } = readYourWrites("lsn", clock, [700n]);
    await runInConsistencyContext(async () => {
      await expect(rw.afterWrite(Promise.reject(new Error("connection lost after COMMIT?")))).rejects.toThrow(
        /connection lost/,
      );
      expect(gate(rw)).toEqual({ kind: "sticky" });
      clock.now += 1000;
      expect(gate(rw)).toEqual({ kind: "any" });
    });
    expect(lsnQueries()).toBe(0);
  });

  it("lsn: when the position cannot be read, the write still succeeds and reads stick to the primary for stickyMs", async () => {
    const clock = fakeClock();
    const { rw } = readYourWrites("lsn", clock, [new Error("primary went away")]);
    await runInConsistencyContext(async () => {
      expect(await write(rw)).toBe("written");
      expect(gate(rw)).toEqual({ kind: "position-pending" });
      await positionAnswered();
      expect(gate(rw)).toEqual({ kind: "sticky" });
      expect(decodeConsistencyToken(rw.token())).toMatchObject({ writtenAt: clock.now, lsn: undefined });
      clock.now += 1000;
      expect(gate(rw)).toEqual({ kind: "any" });
      // Past the window, only what its reads may have seen is left (the write counts as one on the primary).
      expect(decodeConsistencyToken(rw.token())).toMatchObject({ writtenAt: undefined, pin: undefined });
    });
  });

  it("outside a context nothing is recorded, nothing is queried, and there is no token", async () => {
    const { rw, lsnQueries } = readYourWrites("lsn", fakeClock(), [1n]);
    expect(await write(rw)).toBe("written");
    expect(gate(rw)).toEqual({ kind: "any" });
    expect(rw.token()).toBeUndefined();
    expect(lsnQueries()).toBe(0);
  });

  it("off: no query and no token, even in a context", async () => {
    const { rw, lsnQueries } = readYourWrites("off", fakeClock(), [1n]);
    await runInConsistencyContext(async () => {
      await write(rw);
      expect(gate(rw)).toEqual({ kind: "any" });
      expect(rw.token()).toBeUndefined();
    });
    expect(lsnQueries()).toBe(0);
  });

  it("contexts are separate; a nested one joins; $withPrimary keeps it", async () => {
    const { rw } = readYourWrites("session", fakeClock());
    await Promise.all([
      runInConsistencyContext(async () => {
        await write(rw);
        expect(gate(rw).kind).toBe("sticky");
        await runInConsistencyContext(async () => expect(gate(rw).kind).toBe("sticky"));
        await runOnPrimary(async () => expect(routingScope.getStore()?.consistencyContext).toBeDefined());
      }),
      runInConsistencyContext(async () => expect(gate(rw).kind).toBe("any")),
    ]);
  });

  it("a token resumes the write elsewhere; a write time from a clock ahead is clamped to ours", async () => {
    const clock = fakeClock();
    const { rw } = readYourWrites("session", clock);
    await runInConsistencyContext(
      async () => {
        expect(gate(rw)).toEqual({ kind: "sticky" });
        expect(decodeConsistencyToken(rw.token()).writtenAt).toBe(clock.now);
        clock.now += 1000;
        expect(gate(rw)).toEqual({ kind: "any" }); // not stretched by the other clock's lead
      },
      () => rw.resume(point({ writtenAt: clock.now + 3_600_000 })),
    );
  });

  it("lsn: a token's position is resumed; a token without one sticks for stickyMs", async () => {
    const clock = fakeClock();
    const { rw } = readYourWrites("lsn", clock);
    const token = encodeConsistencyToken(point({ writtenAt: clock.now, lsn: 0xabcn, floor: 0xabcn }));
    await runInConsistencyContext(
      async () => {
        expect(gate(rw)).toEqual({ kind: "replayed", lsn: 0xabcn });
        expect(rw.token()).toBe(token);
      },
      () => rw.resume(decodeConsistencyToken(token)),
    );
    await runInConsistencyContext(
      async () => expect(gate(rw)).toEqual({ kind: "sticky" }),
      () => rw.resume(point({ writtenAt: clock.now })),
    );
    // A v1 token (an app instance before monotonic reads) is still read.
    await runInConsistencyContext(
      async () => expect(gate(rw)).toEqual({ kind: "replayed", lsn: 0xabcn }),
      () => rw.resume(decodeConsistencyToken(`v1.${clock.now.toString(36)}.abc`)),
    );
  });

  it("lsn: the write resolves before its position is asked for; the read that asks goes to the primary without waiting", async () => {
    const clock = fakeClock();
    let answer: ((lsn: bigint) => void) | undefined;
    const rw = new ReadYourWrites(
      { readYourWrites: "lsn", stickyMs: 1000 },
      () => new Promise<bigint>((resolve) => (answer = resolve)),
      { now: clock.read },
    );
    const replica = node("replica-0", "replica", 600n);
    const routes = new Router(node("primary", "primary"), [replica], roundRobin(), true, rw);
    await runInConsistencyContext(async () => {
      expect(await write(rw)).toBe("written");
      expect(answer).toBeUndefined(); // a context that only writes sends no query
      expect(decodeConsistencyToken(rw.token())).toMatchObject({ writtenAt: clock.now, lsn: undefined });
      expect(routeOf(routes, "read", undefined)).toMatchObject({ node: { name: "primary" }, reason: "lsn" });
      expect(answer).toBeDefined(); // asked by the read, not waited for
      expect(routeOf(routes, "read", undefined)).toMatchObject({ node: { name: "primary" }, reason: "lsn" });
      answer?.(500n);
      await positionAnswered();
      expect(gate(rw)).toEqual({ kind: "replayed", lsn: 500n });
      expect(decodeConsistencyToken(rw.token())).toMatchObject({ lsn: 500n });
    });
  });
});

describe("Router with a read gate", () => {
  function router(replicas: DbNode[], gateValue: ReadGate) {
    return new Router(node("primary", "primary"), replicas, roundRobin(), true, {
      readGate: () => gateValue,
      contextRead: () => undefined,
    });
  }

  it("sends a replayed-gated read to a replica that has replayed that far, else to the primary (lsn)", () => {
    const behind = node("replica-0", "replica", 100n);
    const caughtUp = node("replica-1", "replica", 500n);
    const gated = router([behind, caughtUp], { kind: "replayed", lsn: 500n });
    expect(
      [routeOf(gated, "read", undefined), routeOf(gated, "read", undefined)].map((d) => [d.node.name, d.reason]),
    ).toEqual([
      ["replica-1", "read"],
      ["replica-1", "read"],
    ]);
    const none = router([behind, node("replica-1", "replica")], { kind: "replayed", lsn: 500n });
    expect(routeOf(none, "read", undefined)).toMatchObject({ node: { name: "primary" }, reason: "lsn" });
  });

  it("a caught-up replica out of rotation does not count; with every replica out, the usual fallback", () => {
    const out = node("replica-0", "replica", 900n, ["lagging"]);
    expect(
      routeOf(router([out, node("replica-1", "replica", 1n)], { kind: "replayed", lsn: 500n }), "read", undefined)
        .reason,
    ).toBe("lsn");
    expect(routeOf(router([out], { kind: "replayed", lsn: 500n }), "read", undefined).reason).toBe("fallback");
  });

  it("sticky reads go to the primary; writes, $primary() and $replica() are not affected by the gate", () => {
    const replica = node("replica-0", "replica", 1n);
    const sticky = router([replica], { kind: "sticky" });
    expect(routeOf(sticky, "read", undefined).reason).toBe("sticky");
    expect(routeOf(sticky, "write", undefined).reason).toBe("write");
    expect(routeOf(sticky, "read", "primary").reason).toBe("forced");
    expect(routeOf(sticky, "read", "replica")).toMatchObject({ node: { name: "replica-0" }, reason: "forced" });
  });
});

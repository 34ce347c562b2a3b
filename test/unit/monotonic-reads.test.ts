import { describe, expect, it } from "vitest";
import { PrimaryPositions } from "../../src/monitor/primary-positions.ts";
import type { DbNode } from "../../src/nodes/db-node.ts";
import { ContextRead, pinIdOf, ReadHistory } from "../../src/routing/consistency/read-history.ts";
import { ReadYourWrites, TOKEN_CLOCK_SKEW_MS } from "../../src/routing/consistency/read-your-writes.ts";
import { decodeConsistencyToken } from "../../src/routing/consistency/token.ts";
import { Router } from "../../src/routing/router.ts";
import { routingScope, runInConsistencyContext } from "../../src/routing/scope.ts";
import type { ReplicaSelector } from "../../src/routing/selectors/index.ts";

/** The part of a DbNode the router and the rule read; `replayLsn` is what the monitor last saw. */
function node(name: string, role: "primary" | "replica", replayLsn?: bigint) {
  return {
    name,
    role,
    index: role === "primary" ? -1 : Number(name.slice(-1)),
    inFlight: 0,
    servesReads: true,
    observed: replayLsn === undefined ? undefined : { replayLsn },
    settings: { identity: `${name}:5432/app?app` },
  } as unknown as DbNode & { servesReads: boolean };
}

/** A monotonic clock the test moves by hand. */
const clock = { now: 1000, read: () => clock.now };

describe("monotonic reads: the pin and the floor (plain values)", () => {
  const ahead = node("replica-0", "replica", 900n);
  const behind = node("replica-1", "replica", 100n);

  it("a context that has not read may use any candidate; after a read, only the replica it read from", () => {
    const history = new ReadHistory();
    const first = new ContextRead(history, new PrimaryPositions(), clock.read);
    expect(first.narrow([ahead, behind])).toEqual([ahead, behind]);
    first.served(ahead);
    expect(history.pinId).toBe(pinIdOf(ahead));
    expect(new ContextRead(history, new PrimaryPositions(), clock.read).narrow([behind, ahead])).toEqual([ahead]);
  });

  it("the pin out of rotation: the primary until the primary is sampled after the read, then only replicas past that", () => {
    const positions = new PrimaryPositions();
    const history = new ReadHistory();
    clock.now = 1000;
    positions.record(900, 950n); // sent before the read ended: says nothing about what it saw
    new ContextRead(history, positions, clock.read).served(ahead);
    // The trap: `behind` is at least at 100 and `ahead` was at least at 900 when last seen; what the
    // read saw may be anything up to the primary's position after it.
    expect(new ContextRead(history, positions, clock.read).narrow([behind])).toEqual([]);
    positions.record(1001, 1000n);
    expect(new ContextRead(history, positions, clock.read).narrow([behind])).toEqual([]);
    behind.observed = { replayLsn: 1000n } as DbNode["observed"];
    expect(new ContextRead(history, positions, clock.read).narrow([behind])).toEqual([behind]);
    behind.observed = { replayLsn: 100n } as DbNode["observed"];
  });

  it("a read on the primary leaves no pin: the next one needs a replica past the primary's next position", () => {
    const positions = new PrimaryPositions();
    const history = new ReadHistory();
    new ContextRead(history, positions, clock.read).served(ahead);
    clock.now = 2000;
    new ContextRead(history, positions, clock.read).served(node("primary", "primary"));
    expect(history.pinId).toBeUndefined();
    expect(new ContextRead(history, positions, clock.read).narrow([ahead, behind])).toEqual([]);
    positions.record(2001, 800n);
    expect(new ContextRead(history, positions, clock.read).narrow([ahead, behind])).toEqual([ahead]);
  });

  it("reads side by side in a fresh context go where the first was sent", () => {
    const history = new ReadHistory();
    const one = new ContextRead(history, new PrimaryPositions(), clock.read);
    const two = new ContextRead(history, new PrimaryPositions(), clock.read);
    expect(one.narrow([ahead, behind])).toEqual([ahead, behind]);
    one.sent(behind);
    expect(two.narrow([ahead, behind])).toEqual([behind]);
    two.served(behind);
    one.served(behind);
    expect(history.pinId).toBe(pinIdOf(behind));
  });

  it("two reads that answered from two replicas anyway (a retry moved one): neither is pinned, the floor decides", () => {
    const history = new ReadHistory();
    const positions = new PrimaryPositions();
    const one = new ContextRead(history, positions, clock.read);
    const two = new ContextRead(history, positions, clock.read);
    one.served(ahead);
    two.served(behind);
    expect(history.pinId).toBeUndefined();
    expect(new ContextRead(history, positions, clock.read).narrow([ahead, behind])).toEqual([]);
  });

  it("without a monitor nothing bounds a read: the pin while it serves, then any replica", () => {
    const history = new ReadHistory();
    new ContextRead(history, undefined, clock.read).served(ahead);
    expect(new ContextRead(history, undefined, clock.read).narrow([ahead, behind])).toEqual([ahead]);
    expect(new ContextRead(history, undefined, clock.read).narrow([behind])).toEqual([behind]);
  });

  it("only the first answer of a read counts (a hedge's loser comes later)", () => {
    const history = new ReadHistory();
    const read = new ContextRead(history, undefined, clock.read);
    read.served(ahead);
    read.served(behind);
    expect(history.pinId).toBe(pinIdOf(ahead));
  });
});

describe("monotonic reads through the router, whatever the selector", () => {
  it("a selector that alternates still reads where the context read first, and the token names that replica", async () => {
    let next = 0;
    const alternate: ReplicaSelector = (candidates) => candidates[next++ % candidates.length]!;
    const replicas = [node("replica-0", "replica", 900n), node("replica-1", "replica", 100n)];
    const rw = new ReadYourWrites({ readYourWrites: "lsn", stickyMs: 1000 }, async () => 1n, {
      monotonicNow: clock.read,
      primaryPositions: new PrimaryPositions(),
    });
    const router = new Router(node("primary", "primary"), replicas, alternate, true, rw);
    await runInConsistencyContext(async () => {
      const chosen: string[] = [];
      for (let read = 0; read < 4; read++) {
        const placement = router.place("read", undefined);
        const decision = router.route(placement);
        placement.context?.served(decision.node);
        chosen.push(decision.node.name);
      }
      expect(chosen).toEqual(["replica-0", "replica-0", "replica-0", "replica-0"]);
      expect(decodeConsistencyToken(rw.token()).pin).toBe(pinIdOf(replicas[0]!));
      expect(routingScope.getStore()?.consistencyContext).toBeDefined();
    });
  });

  it("a token's floor-after time counts from another clock: a primary sample sent TOKEN_CLOCK_SKEW_MS later bounds it", async () => {
    const positions = new PrimaryPositions();
    const wall = { now: 5_000_000 };
    const rw = new ReadYourWrites({ readYourWrites: "lsn", stickyMs: 1000 }, async () => 1n, {
      now: () => wall.now,
      monotonicNow: clock.read,
      primaryPositions: positions,
    });
    clock.now = 10_000;
    const replica = node("replica-1", "replica", 700n);
    const router = new Router(node("primary", "primary"), [replica], (c) => c[0]!, true, rw);
    await runInConsistencyContext(
      async () => {
        // A sample sent less than the allowance after the token's time is no bound.
        positions.record(10_000 + TOKEN_CLOCK_SKEW_MS - 1, 500n);
        expect(router.route(router.place("read", undefined)).reason).toBe("lsn");
        positions.record(10_000 + TOKEN_CLOCK_SKEW_MS + 1, 600n);
        expect(router.route(router.place("read", undefined)).node.name).toBe("replica-1");
      },
      () => rw.resume(decodeConsistencyToken(`v2.pzzz.a${wall.now.toString(36)}`)),
    );
  });
});

import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/errors.ts";
import type { DbNode } from "../../src/nodes/db-node.ts";
import { Router } from "../../src/routing/router.ts";
import type { ReplicaCandidate } from "../../src/routing/selectors/index.ts";
import { roundRobin } from "../../src/routing/selectors/round-robin.ts";

/** Where one call of `kind` on a client tagged `forced` runs: placed, then routed, as the pipeline does. */
function routeOf(router: Router, kind: "read" | "write", forced: "primary" | "replica" | undefined) {
  return router.route(router.place(kind, forced));
}

/** The part of a DbNode the router reads: role, index and whether it takes reads. */
function fakeNode(role: "primary" | "replica", index: number): DbNode & { servesReads: boolean } {
  return {
    name: role === "primary" ? "primary" : `replica-${index}`,
    role,
    index,
    inFlight: 0,
    servesReads: true,
  } as unknown as DbNode & { servesReads: boolean };
}

function cluster(replicaCount: number) {
  const primary = fakeNode("primary", -1);
  const replicas = Array.from({ length: replicaCount }, (_, index) => fakeNode("replica", index));
  return { primary, replicas };
}

describe("Router decisions", () => {
  it("sends reads to replicas in turn and writes to the primary", () => {
    const { primary, replicas } = cluster(2);
    const router = new Router(primary, replicas, roundRobin(), true);
    const reads = Array.from({ length: 4 }, () => routeOf(router, "read", undefined));
    expect(reads.map((decision) => [decision.node.name, decision.reason])).toEqual([
      ["replica-0", "read"],
      ["replica-1", "read"],
      ["replica-0", "read"],
      ["replica-1", "read"],
    ]);
    expect(routeOf(router, "write", undefined)).toMatchObject({ node: primary, reason: "write" });
    expect(routeOf(router, "read", "primary")).toMatchObject({ node: primary, reason: "forced" });
    expect(routeOf(router, "read", "replica")).toMatchObject({ node: replicas[0], reason: "forced" });
  });

  it("reuses one immutable decision per replica and reason instead of making one per query", () => {
    const { primary, replicas } = cluster(1);
    const router = new Router(primary, replicas, roundRobin(), true);
    const first = routeOf(router, "read", undefined);
    expect(routeOf(router, "read", undefined)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(routeOf(router, "read", "replica")).not.toBe(first);
    expect(routeOf(router, "read", "replica")).toBe(routeOf(router, "read", "replica"));
  });

  it("offers the selector only the replicas that serve reads, and falls back to the primary when none does", () => {
    const { primary, replicas } = cluster(3);
    const seen: string[][] = [];
    const select = (candidates: readonly ReplicaCandidate[]) => {
      seen.push(candidates.map((candidate) => candidate.name));
      return candidates[candidates.length - 1] as ReplicaCandidate;
    };
    const router = new Router(primary, replicas, select, true);
    expect(routeOf(router, "read", undefined).node.name).toBe("replica-2");
    (replicas[2] as { servesReads: boolean }).servesReads = false;
    expect(routeOf(router, "read", undefined).node.name).toBe("replica-1");
    (replicas[0] as { servesReads: boolean }).servesReads = false;
    // One candidate left: no choice to make, the selector is not asked.
    expect(routeOf(router, "read", undefined).node.name).toBe("replica-1");
    expect(seen).toEqual([
      ["replica-0", "replica-1", "replica-2"],
      ["replica-0", "replica-1"],
    ]);
    (replicas[1] as { servesReads: boolean }).servesReads = false;
    expect(routeOf(router, "read", undefined)).toMatchObject({ node: primary, reason: "fallback" });
  });

  it("hands the selector a list it cannot change, and ignores a pick that is not a candidate", () => {
    const { primary, replicas } = cluster(2);
    let given: readonly ReplicaCandidate[] = [];
    const stranger = fakeNode("replica", 7);
    const router = new Router(
      primary,
      replicas,
      (candidates) => {
        given = candidates;
        return stranger;
      },
      true,
    );
    expect(routeOf(router, "read", undefined).node).toBe(replicas[0]);
    expect(Object.isFrozen(given)).toBe(true);
    expect(router.replicas.map((replica) => replica.name)).toEqual(["replica-0", "replica-1"]);
  });

  it("refuses a read no replica can serve when fallback is off", () => {
    const { primary, replicas } = cluster(1);
    (replicas[0] as { servesReads: boolean }).servesReads = false;
    const router = new Router(primary, replicas, roundRobin(), false);
    let caught: unknown;
    try {
      routeOf(router, "read", undefined);
    } catch (error) {
      caught = error;
    }
    expect(isDatabaseUnavailable(caught)).toBe(true);
    expect(routeOf(router, "write", undefined).node).toBe(primary);
  });

  it("sends reads to the primary of a primary-only setup", () => {
    const { primary } = cluster(0);
    const router = new Router(primary, [], roundRobin(), true);
    expect(routeOf(router, "read", undefined)).toMatchObject({ node: primary, reason: "no-replicas" });
  });
});

import { describe, expect, it } from "vitest";
import type { DbNode } from "../../src/nodes/db-node.ts";
import { withinLag } from "../../src/routing/lag-bound.ts";
import { ZonePreference } from "../../src/routing/zone-preference.ts";

/** The fields these filters read, as plain values. */
function replica(name: string, zone: string | undefined, lagMs?: number): DbNode {
  return { name, zone, observed: lagMs === undefined ? undefined : { lagMs } } as unknown as DbNode;
}

describe("ZonePreference", () => {
  const a0 = replica("a0", "a");
  const b0 = replica("b0", "b");
  const b1 = replica("b1", "b");
  const none = replica("none", undefined);
  const all = Object.freeze([a0, b0, none, b1]);
  const prefer = new ZonePreference("b", all);

  it("keeps the zone's replicas, the same list each time while all of them serve", () => {
    expect(prefer.among(all)).toEqual([b0, b1]);
    expect(prefer.among(all)).toBe(prefer.among(all));
  });

  it("falls back to every candidate only when none of the zone is among them", () => {
    expect(prefer.among([a0, b1])).toEqual([b1]);
    expect(prefer.among([a0, none])).toEqual([a0, none]);
    expect(new ZonePreference("c", all).among(all)).toBe(all);
  });

  it("says whether a replica is local", () => {
    expect([a0, b0, none].map((node) => prefer.localityOf(node))).toEqual(["remote", "local", "remote"]);
  });
});

describe("withinLag", () => {
  it("keeps the replicas last seen within the bound, never one whose lag is unknown", () => {
    const fresh = replica("fresh", undefined, 0);
    const edge = replica("edge", undefined, 500);
    const behind = replica("behind", undefined, 501);
    const unknown = replica("unknown", undefined);
    expect(withinLag([fresh, edge, behind, unknown], 500)).toEqual([fresh, edge]);
    expect(withinLag([behind, unknown], 500)).toEqual([]);
  });
});

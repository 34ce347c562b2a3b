import { describe, expect, it } from "vitest";
import { anyReachable, summarize } from "../../src/lifecycle/health.ts";

const primary = { reachable: true, actualRole: "primary", breaker: "closed", roleCheck: "ok" } as const;
const replica = { reachable: true, roleCheck: "ok", breaker: "closed", inRotation: true } as const;
const deadPrimary = { ...primary, reachable: false, actualRole: undefined, roleCheck: "unknown" } as const;
const deadReplica = { ...replica, reachable: false, roleCheck: "unknown", inRotation: false } as const;

describe("health status rules", () => {
  it.each(["any", "primary"] as const)("ok when every node answers in its role with closed breakers (%s)", (mode) => {
    expect(summarize(primary, [replica, replica], false, mode)).toEqual({ status: "ok", ready: true });
    expect(summarize(primary, [], false, mode)).toEqual({ status: "ok", ready: true });
  });

  it.each([
    ["a replica unreachable", { ...replica, reachable: false }],
    ["a replica that is not in recovery", { ...replica, roleCheck: "mismatch" }],
    ["a replica's breaker open", { ...replica, breaker: "open" }],
    ["a replica out of rotation (lagging)", { ...replica, inRotation: false }],
  ] as const)("degraded, still ready, with %s", (_, bad) => {
    expect(summarize(primary, [replica, bad], false, "any")).toEqual({ status: "degraded", ready: true });
    expect(summarize(primary, [replica, bad], false, "primary")).toEqual({ status: "degraded", ready: true });
  });

  it("ok with no breaker at all (breaker: false)", () => {
    const unguarded = { ...replica, breaker: "off" } as const;
    expect(summarize({ ...primary, breaker: "off" }, [unguarded], false, "any")).toEqual({ status: "ok", ready: true });
  });

  it("degraded when the primary's breaker is not closed", () => {
    expect(summarize({ ...primary, breaker: "halfOpen" }, [replica], false, "any")).toEqual({
      status: "degraded",
      ready: true,
    });
  });

  it("primary unreachable, a replica serving reads: down, but ready in the default mode", () => {
    expect(summarize(deadPrimary, [deadReplica, replica], false, "any")).toEqual({ status: "down", ready: true });
  });

  it('primary unreachable: down and not ready in mode "primary", even with replicas serving reads', () => {
    expect(summarize(deadPrimary, [replica], false, "primary")).toEqual({ status: "down", ready: false });
  });

  it.each(["any", "primary"] as const)("down and not ready when no node answers (%s)", (mode) => {
    expect(summarize(deadPrimary, [deadReplica, deadReplica], false, mode)).toEqual({ status: "down", ready: false });
    expect(summarize(deadPrimary, [], false, mode)).toEqual({ status: "down", ready: false });
  });

  it("down when the primary is a standby (writes would fail), though it answers: still ready", () => {
    const standby = { ...primary, actualRole: "replica", roleCheck: "mismatch" } as const;
    expect(summarize(standby, [replica], false, "any")).toEqual({ status: "down", ready: true });
    expect(summarize(standby, [replica], false, "primary")).toEqual({ status: "down", ready: true });
  });

  it.each(["any", "primary"] as const)("down and not ready during shutdown (%s)", (mode) => {
    expect(summarize(primary, [replica], true, mode)).toEqual({ status: "down", ready: false });
  });
});

describe('anyReachable (readiness in mode "any")', () => {
  const answer = (reachable: boolean) => Promise.resolve({ reachable });
  const silent = new Promise<{ reachable: boolean }>(() => {}); // a black-holed node, before its timeout

  it("answers true at the first reachable node, without waiting for one that never answers", async () => {
    await expect(anyReachable([silent, answer(false), answer(true)])).resolves.toBe(true);
  });

  it("answers false once every node has failed, and for no node at all", async () => {
    await expect(anyReachable([answer(false), answer(false)])).resolves.toBe(false);
    await expect(anyReachable([])).resolves.toBe(false);
  });
});

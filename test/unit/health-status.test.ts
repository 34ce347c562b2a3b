import { describe, expect, it } from "vitest";
import { summarize } from "../../src/lifecycle/health.ts";

const primary = { reachable: true, actualRole: "primary", breaker: "closed", roleCheck: "ok" } as const;
const replica = { reachable: true, roleCheck: "ok", breaker: "closed", inRotation: true } as const;

describe("health status rules", () => {
  it("ok when every node answers in its role with closed breakers", () => {
    expect(summarize(primary, [replica, replica], false)).toEqual({ status: "ok", ready: true });
    expect(summarize(primary, [], false)).toEqual({ status: "ok", ready: true });
  });

  it.each([
    ["a replica unreachable", { ...replica, reachable: false }],
    ["a replica that is not in recovery", { ...replica, roleCheck: "mismatch" }],
    ["a replica's breaker open", { ...replica, breaker: "open" }],
    ["a replica out of rotation (lagging)", { ...replica, inRotation: false }],
  ] as const)("degraded, still ready, with %s", (_, bad) => {
    expect(summarize(primary, [replica, bad], false)).toEqual({ status: "degraded", ready: true });
  });

  it("degraded when the primary's breaker is not closed", () => {
    expect(summarize({ ...primary, breaker: "halfOpen" }, [replica], false)).toEqual({
      status: "degraded",
      ready: true,
    });
  });

  it("down and not ready when the primary is unreachable, even with replicas serving reads", () => {
    expect(summarize({ ...primary, reachable: false, actualRole: undefined } as never, [replica], false)).toEqual({
      status: "down",
      ready: false,
    });
  });

  it("down when the primary is a standby (writes would fail), though it answers", () => {
    expect(summarize({ ...primary, actualRole: "replica", roleCheck: "mismatch" } as never, [replica], false)).toEqual({
      status: "down",
      ready: true,
    });
  });

  it("down and not ready during shutdown", () => {
    expect(summarize(primary, [replica], true)).toEqual({ status: "down", ready: false });
  });
});

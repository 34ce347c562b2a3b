import { describe, expect, it } from "vitest";
import { isRoleMismatch, mismatchMessage, type ReplicaRoleInput, replicaRole } from "../../src/monitor/replica-role.ts";

// Issue 22, point 1: what a replica that takes writes is, from what the same round's probes saw.

const SERVER_A = "127.0.0.1 27303 2026-12-04 01:00:00.1+00";
const SERVER_B = "127.0.0.1 27304 2026-12-04 01:00:00.2+00";
const base: ReplicaRoleInput = {
  inRecovery: false,
  reachesPrimary: false,
  server: SERVER_A,
  primaryWriter: SERVER_B,
  seenAsStandby: true,
};

describe("replicaRole", () => {
  it.each<[string, Partial<ReplicaRoleInput>, string, boolean]>([
    ["a standby", { inRecovery: true }, "standby", false],
    [
      "the primary's server reached as a replica node (a multi-host URL's writer)",
      { reachesPrimary: true },
      "writer",
      false,
    ],
    [
      "a writer while the primary writes nothing (a promotion under way)",
      { primaryWriter: undefined },
      "candidate",
      false,
    ],
    [
      "the primary's server through a replica endpoint that was a standby (HAProxy's replica port mid-switchover)",
      { primaryWriter: SERVER_A },
      "primary-via-endpoint",
      false,
    ],
    [
      "the primary's server through a replica URL never seen as a standby (the primary's address in disguise)",
      { primaryWriter: SERVER_A, seenAsStandby: false },
      "primary-address",
      true,
    ],
    ["another server writing while the primary writes", {}, "split-brain", true],
    ["another server writing, never seen as a standby", { seenAsStandby: false }, "split-brain", true],
  ])("%s", (_, input, role, mismatch) => {
    const found = replicaRole({ ...base, ...input });
    expect(found).toBe(role);
    expect(isRoleMismatch(found)).toBe(mismatch);
  });

  it("says split brain, and what strict does", () => {
    const replica = { name: "replica-0", url: "postgresql://app:***@h2/app" };
    const message = mismatchMessage("split-brain", replica, "postgresql://app:***@h1/app", true);
    expect(message).toMatch(/replica-0 \(postgresql:\/\/app:\*\*\*@h2\/app\) is not in recovery, and the primary/);
    expect(message).toMatch(/split brain/);
    expect(message).toMatch(/replicas\.strict is on: it takes no reads/);
    expect(mismatchMessage("primary-address", replica, "x", false)).toMatch(
      /it is a primary, not a streaming replica.*keeps serving reads/,
    );
  });
});

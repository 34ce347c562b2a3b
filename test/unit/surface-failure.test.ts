import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/errors.ts";
import type { DbNode } from "../../src/nodes/db-node.ts";
import type { Fault } from "../../src/resilience/classify-fault.ts";
import { attemptMayHaveApplied, surfaceFailure } from "../../src/resilience/surface-failure.ts";

const fault = (kind: Fault["kind"], maybeSent: boolean, label = "x"): Fault => ({ kind, maybeSent, label });
const primary = { name: "primary", role: "primary", settings: { redactedUrl: "postgresql://app:***@db" } } as DbNode;

describe("attemptMayHaveApplied: whether a failed attempt may have taken effect", () => {
  it.each([
    ["a write sent and not answered", fault("node", true), "write", true],
    ["a write refused before it was sent", fault("node", false), "write", false],
    ["a read, whatever reached the server", fault("node", true), "read", false],
    ["a write a standby refused (25006)", fault("read-only", true), "write", false],
    ["a write prisma-split refused itself", fault("refusal", false), "write", false],
  ] as const)("%s → %s", (_, failure, kind, expected) => {
    expect(attemptMayHaveApplied(failure, kind)).toBe(expected);
  });
});

describe("surfaceFailure's outcome", () => {
  const context = { attempts: 1, closing: false, retryAfterSeconds: 1 };
  it("says unknown when a write of the call may have applied, not-applied otherwise", () => {
    const unknown = surfaceFailure(fault("node", true), new Error("x"), primary, { ...context, mayHaveApplied: true });
    const notApplied = surfaceFailure(fault("node", false), new Error("x"), primary, {
      ...context,
      mayHaveApplied: false,
    });
    expect(unknown).toMatchObject({ reason: "unreachable", outcome: "unknown" });
    expect(notApplied).toMatchObject({ reason: "unreachable", outcome: "not-applied" });
  });

  it("a demoted primary's 25006 ran nothing: primary-moving, not-applied", () => {
    const moving = surfaceFailure(fault("read-only", true), new Error("x"), primary, {
      ...context,
      mayHaveApplied: true,
    });
    expect(isDatabaseUnavailable(moving) && [moving.reason, moving.outcome]).toEqual(["primary-moving", "not-applied"]);
  });
});

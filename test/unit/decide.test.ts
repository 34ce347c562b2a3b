import { describe, expect, it } from "vitest";
import type { Fault, FaultKind } from "../../src/resilience/classify-fault.ts";
import { type AfterFailure, decide, type FailedAttempt } from "../../src/resilience/decide.ts";

const fault = (kind: FaultKind, maybeSent = true, label: string = kind): Fault => ({ kind, maybeSent, label });
const read: FailedAttempt = { kind: "read", role: "replica", forced: false, attempt: 1, maxAttempts: 3 };
const write: FailedAttempt = { kind: "write", role: "primary", forced: false, attempt: 1, maxAttempts: 3 };

// What follows a failure, for every kind of fault and the attempts that matter.
const table: ReadonlyArray<[name: string, fault: Fault, attempt: FailedAttempt, expected: AfterFailure]> = [
  ["read refused by an open breaker: the next node at once", fault("refusal", false, "breaker-open"), read, "reroute"],
  ["read shed by a full bulkhead: the next node at once", fault("refusal", false, "overloaded"), read, "reroute"],
  ["write refused by an open breaker: fail", fault("refusal", false, "breaker-open"), write, "fail"],
  ["refused as shutting down: fail", fault("refusal", false, "shutting-down"), read, "fail"],
  ["deadline: fail", fault("refusal", false, "deadline"), read, "fail"],
  ["25006 on a replica: once on the primary", fault("read-only"), read, "primary"],
  ["25006 on $replica(): the caller chose the node, fail", fault("read-only"), { ...read, forced: true }, "fail"],
  ["25006 on the primary (demoted): fail", fault("read-only"), write, "fail"],
  ["node fault on a read: retry", fault("node"), read, "retry"],
  ["node fault on a read, last attempt: fail", fault("node"), { ...read, attempt: 3 }, "fail"],
  ["node fault on a write that may have run: fail", fault("node", true), write, "fail"],
  ["node fault on a write never sent: retry", fault("node", false), write, "retry"],
  ["node fault on a write never sent, last attempt: fail", fault("node", false), { ...write, attempt: 3 }, "fail"],
  ["no retries configured: fail", fault("node", false), { ...write, maxAttempts: 1 }, "fail"],
  ["pool_timeout on a write (never sent): retry", fault("overloaded", false), write, "retry"],
  ["pool_timeout on a read: retry", fault("overloaded", false), read, "retry"],
  ["the query's own error (57014, constraint): fail", fault("query"), read, "fail"],
  ["the query's own error on a write: fail", fault("query"), write, "fail"],
  ["configuration fault: fail at once", fault("configuration", false), read, "fail"],
  ["configuration fault on a write: fail at once", fault("configuration", false), write, "fail"],
];

describe("decide: what follows a failed attempt", () => {
  it.each(table)("%s", (_name, failure, attempt, expected) => {
    expect(decide(failure, attempt)).toBe(expected);
  });
});

import { describe, expect, it } from "vitest";
import type { Fault, FaultKind } from "../../src/resilience/classify-fault.ts";
import { type AfterFailure, decide, type FailedAttempt } from "../../src/resilience/decide.ts";

const fault = (kind: FaultKind, maybeSent = true, label: string = kind): Fault => ({ kind, maybeSent, label });
const read: FailedAttempt = {
  kind: "read",
  role: "replica",
  forced: false,
  attempt: 1,
  maxAttempts: 3,
  nodeOut: false,
};
const write: FailedAttempt = {
  kind: "write",
  role: "primary",
  forced: false,
  attempt: 1,
  maxAttempts: 3,
  nodeOut: false,
};
const transaction: FailedAttempt = { ...write, kind: "transaction" };
const passwordFunction: Fault = { ...fault("configuration", false), problem: "password-function", nodeLocal: true };
const lagging = (state: string): Fault => ({ kind: "query", maybeSent: true, label: state, replicaMayLag: true });

// What follows a failure, for every kind of fault and the attempts that matter.
const table: ReadonlyArray<[name: string, fault: Fault, attempt: FailedAttempt, expected: AfterFailure]> = [
  ["read refused by an open breaker: the next node at once", fault("refusal", false, "breaker-open"), read, "move-on"],
  ["read shed by a full bulkhead: the next node at once", fault("refusal", false, "overloaded"), read, "move-on"],
  ["write refused by an open breaker: fail", fault("refusal", false, "breaker-open"), write, "fail"],
  ["refused as shutting down: fail", fault("refusal", false, "shutting-down"), read, "fail"],
  ["deadline: fail", fault("refusal", false, "deadline"), read, "fail"],
  ["25006 on a replica: once on the primary", fault("read-only"), read, "primary"],
  ["55000 / recovery conflict on a replica (read-only kind): once on the primary", fault("read-only"), read, "primary"],
  ["42P01 on a replica (not replayed yet): once on the primary", lagging("42P01"), read, "primary"],
  ["42P01 on $replica(): the caller chose the node, fail", lagging("42P01"), { ...read, forced: true }, "fail"],
  ["42P01 on the primary: the query's own error", lagging("42P01"), { ...read, role: "primary" }, "fail"],
  ["25006 on $replica(): the caller chose the node, fail", fault("read-only"), { ...read, forced: true }, "fail"],
  ["25006 on the primary (demoted): fail", fault("read-only"), write, "fail"],
  ["node fault on a read: retry", fault("node"), read, "retry"],
  [
    "node fault on a read whose node was taken out (hung): the next node at once",
    fault("node"),
    { ...read, nodeOut: true },
    "move-on",
  ],
  [
    "node fault on a write whose node was taken out: as any write (never moved)",
    fault("node"),
    { ...write, nodeOut: true },
    "fail",
  ],
  ["node fault on a read, last attempt: fail", fault("node"), { ...read, attempt: 3 }, "fail"],
  ["node fault on a write that may have run: fail", fault("node", true), write, "fail"],
  ["node fault on a write never sent: retry", fault("node", false), write, "retry"],
  ["node fault on a write never sent, last attempt: fail", fault("node", false), { ...write, attempt: 3 }, "fail"],
  ["no retries configured: fail", fault("node", false), { ...write, maxAttempts: 1 }, "fail"],
  ["pool_timeout on a write (never sent): retry", fault("overloaded", false), write, "retry"],
  [
    "pool_timeout on a read: another node at once (503 overloaded only when every node is)",
    fault("overloaded", false),
    read,
    "move-on",
  ],
  ["pool_timeout on a write, last attempt: fail", fault("overloaded", false), { ...write, attempt: 3 }, "fail"],
  ["a transaction's failure, whatever it is: never retried", fault("node", false), transaction, "fail"],
  ["the query's own error (57014, constraint): fail", fault("query"), read, "fail"],
  ["the query's own error on a write: fail", fault("query"), write, "fail"],
  ["configuration fault: fail at once", fault("configuration", false), read, "fail"],
  ["configuration fault on a write: fail at once", fault("configuration", false), write, "fail"],
  [
    "a node's password function failed on a read: the next node at once (it logs in its own way)",
    passwordFunction,
    read,
    "move-on",
  ],
  [
    "a node's password function failed on a write: fail at once (only the primary writes)",
    passwordFunction,
    write,
    "fail",
  ],
];

describe("decide: what follows a failed attempt", () => {
  it.each(table)("%s", (_name, failure, attempt, expected) => {
    expect(decide(failure, attempt)).toBe(expected);
  });
});

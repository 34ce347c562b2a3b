import type { NodeRole } from "../errors.js";
import type { Fault } from "./classify-fault.js";

/**
 * What the pipeline does after a failed attempt:
 * - `reroute`: the call did not run (a breaker or bulkhead refused it): at once to the next
 *   node, which has its own; no retry is spent, nothing waits;
 * - `primary`: a write the router took for a read reached a standby (25006): run it once on the
 *   primary; not a retry, not the replica's fault;
 * - `retry`: after a back-off, on a node routed anew (away from the one that failed);
 * - `fail`: the caller gets the outcome.
 */
export type AfterFailure = "reroute" | "primary" | "retry" | "fail";

/** What the decision needs to know about the call and the attempt that failed. */
export interface FailedAttempt {
  /** `read`, or `write` (raw SQL that may write, and a read moved to the primary as a write). */
  readonly kind: "read" | "write";
  /** The role of the node the attempt ran on. */
  readonly role: NodeRole;
  /** The call came through `$primary()` / `$replica()`: the caller chose the node. */
  readonly forced: boolean;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Attempts allowed in all (1 with retries off). */
  readonly maxAttempts: number;
}

/**
 * The one rule of what follows a failure, a pure function of the fault and the attempt (unit-tested
 * as a table in test/unit/decide.test.ts). The retry budget, the deadline and shutdown may still
 * turn a `retry` into a `fail`: they are state, checked by the pipeline.
 */
export function decide(fault: Fault, attempt: FailedAttempt): AfterFailure {
  switch (fault.kind) {
    case "refusal":
      return attempt.kind === "read" && (fault.label === "breaker-open" || fault.label === "overloaded")
        ? "reroute"
        : "fail";
    case "read-only":
      return attempt.role === "replica" && !attempt.forced ? "primary" : "fail";
    case "node":
    case "overloaded":
      if (attempt.attempt >= attempt.maxAttempts) return "fail";
      // A write is sent again only when it provably never reached the server.
      return attempt.kind === "write" && fault.maybeSent ? "fail" : "retry";
    default:
      return "fail";
  }
}

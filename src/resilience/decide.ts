import type { NodeRole } from "../errors.js";
import type { Fault } from "./classify-fault.js";

/**
 * What the pipeline does after a failed attempt:
 * - `move-on`: at once to the next node that may serve the call (never the one that failed), no
 *   back-off, no retry spent: the call did not run there (a breaker or bulkhead refused it, no
 *   connection came free), or the node was taken out while it ran (found hung or down);
 * - `primary`: once on the primary, as a new call: a write the router took for a read reached a
 *   standby (25006), or a read hit what only a replica raises (55000, 40001 recovery conflict,
 *   a relation or column it has not replayed yet); not a retry, not the replica's fault;
 * - `retry`: after a back-off, on a node routed anew (away from the one that failed);
 * - `fail`: the caller gets the outcome.
 */
export type AfterFailure = "move-on" | "primary" | "retry" | "fail";

/** What the decision needs to know about the call and the attempt that failed. */
export interface FailedAttempt {
  /** `read`, `write` (raw SQL that may write included), or `transaction` (never retried). */
  readonly kind: "read" | "write" | "transaction";
  /** The role of the node the attempt ran on. */
  readonly role: NodeRole;
  /** The call came through `$primary()` / `$replica()`: the caller chose the node. */
  readonly forced: boolean;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Attempts allowed in all (1 with retries off). */
  readonly maxAttempts: number;
  /** The node was taken out of service (found down or hung, its breaker opened) after the attempt began. */
  readonly nodeOut: boolean;
}

/** Refusals that mean "this node would not take it now": another node may. */
const NOT_HERE = new Set(["breaker-open", "overloaded"]);

/**
 * The one rule of what follows a failure, a pure function of the fault and the attempt (unit-tested
 * as a table in test/unit/decide.test.ts). The retry budget, the deadline and shutdown may still
 * turn a `retry` into a `fail`: they are state, checked by the pipeline.
 */
export function decide(fault: Fault, attempt: FailedAttempt): AfterFailure {
  if (attempt.kind === "transaction") return "fail";
  const read = attempt.kind === "read";
  const onReplica = attempt.role === "replica" && !attempt.forced;
  switch (fault.kind) {
    case "refusal":
      return read && NOT_HERE.has(fault.label) ? "move-on" : "fail";
    case "read-only":
      return onReplica ? "primary" : "fail";
    case "query":
      return onReplica && read && fault.replicaMayLag === true ? "primary" : "fail";
    case "overloaded":
      // Never sent. A read may find a connection elsewhere now; a write has only the primary.
      if (read) return "move-on";
      return attempt.attempt < attempt.maxAttempts ? "retry" : "fail";
    case "configuration":
      // This node's own password function failed: nothing was sent, and another node logs in its own way.
      return read && fault.nodeLocal === true ? "move-on" : "fail";
    case "node":
      if (read && attempt.nodeOut) return "move-on";
      if (attempt.attempt >= attempt.maxAttempts) return "fail";
      // A write is sent again only when it provably never reached the server.
      return !read && fault.maybeSent ? "fail" : "retry";
    default:
      return "fail";
  }
}

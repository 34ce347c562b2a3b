import { DatabaseConfigurationError, DatabaseUnavailableError } from "../errors.js";
import type { DbNode } from "../nodes/db-node.js";
import { type Fault, POOL_ACQUIRE_TIMEOUT } from "./classify-fault.js";

export interface FailureContext {
  /** Attempts made. */
  readonly attempts: number;
  /** Shutdown has begun (the call may have been cut short by it). */
  readonly closing: boolean;
  readonly retryAfterSeconds: number;
}

/**
 * What the caller sees of a failure the pipeline gives up on: the query's own error untouched,
 * a refusal as it is, a configuration fault as a DatabaseConfigurationError naming the cause,
 * and everything the node could not serve as a 503 with the original as `cause`.
 */
export function surfaceFailure(fault: Fault, error: unknown, node: DbNode, context: FailureContext): unknown {
  switch (fault.kind) {
    case "query":
    case "refusal":
      return error;
    case "configuration":
      return new DatabaseConfigurationError(
        `prisma-split: ${node.name} (${node.role}, ${node.settings.redactedUrl}) refused the connection: ` +
          `${fault.label}. This is a setting, not an outage: check ${
            node.role === "primary" ? "primaryUrl / DATABASE_URL" : "replicaUrls / DATABASE_REPLICA_URLS"
          } and the server's configuration.`,
        { problem: fault.problem ?? "authentication", role: node.role, node: node.name, cause: error },
      );
    case "read-only":
      if (node.role === "replica") return error;
      // The standby refused the statement: it did not run. The primary follower is told (node-guard.ts).
      return unavailable(
        `prisma-split: the primary (${node.name}) is read-only: it is in recovery (demoted, or a failover is under way); the primary is moving`,
        node,
        "primary-moving",
        context,
        error,
      );
    default: {
      const tries = context.attempts > 1 ? ` after ${context.attempts} attempts` : "";
      const during = context.closing ? " during shutdown" : "";
      const reason = context.closing
        ? "shutting-down"
        : fault.kind === "overloaded" || fault.label === POOL_ACQUIRE_TIMEOUT
          ? "overloaded"
          : context.attempts > 1
            ? "retries-exhausted"
            : "unreachable";
      return unavailable(
        `prisma-split: ${node.name} (${node.role}) failed${tries}${during}: ${fault.label}`,
        node,
        reason,
        context,
        error,
      );
    }
  }
}

function unavailable(
  message: string,
  node: DbNode,
  reason: DatabaseUnavailableError["reason"],
  context: FailureContext,
  cause: unknown,
): DatabaseUnavailableError {
  return new DatabaseUnavailableError(message, {
    role: node.role,
    node: node.name,
    reason,
    retryAfterSeconds: context.retryAfterSeconds,
    cause,
  });
}

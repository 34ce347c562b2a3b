import { DatabaseConfigurationError, DatabaseUnavailableError } from "../errors.js";
import type { DbNode } from "../nodes/db-node.js";
import type { QueryKind } from "../routing/router.js";
import { type Fault, POOL_ACQUIRE_TIMEOUT, UNANSWERED_COMMIT } from "./classify-fault.js";
import { configurationAdvice } from "./configuration-advice.js";

export interface FailureContext {
  /** Attempts made. */
  readonly attempts: number;
  /** A write of the call (or its transaction's COMMIT) may have reached the server unanswered. */
  readonly mayHaveApplied: boolean;
  /** Shutdown has begun (the call may have been cut short by it). */
  readonly closing: boolean;
  readonly retryAfterSeconds: number;
}

/**
 * Whether a failed attempt of a call of `kind` may have applied something: a write (raw SQL
 * included) whose statement may have reached the server, a transaction whose COMMIT did. A
 * standby's 25006 and prisma-split's own refusals ran nothing.
 */
export function attemptMayHaveApplied(fault: Fault, kind: QueryKind): boolean {
  // Statements of a transaction take effect only with its COMMIT: one that failed before it was
  // rolled back (its connection is closed, never reused: pool/connection-reuse.ts).
  if (kind === "transaction") return fault.label === UNANSWERED_COMMIT;
  return kind === "write" && fault.maybeSent && fault.kind !== "read-only" && fault.kind !== "refusal";
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
      return new DatabaseConfigurationError(describeConfigurationFault(fault, error, node), {
        problem: fault.problem ?? "authentication",
        role: node.role,
        node: node.name,
        cause: error,
      });
    case "read-only":
      if (node.role === "replica") return error;
      // The standby refused the statement: it did not run. The primary follower is told (node-guard.ts).
      return unavailable(
        `prisma-split: the primary (${node.name}) is read-only: it is in recovery (demoted, or a failover is under way); the primary is moving`,
        node,
        "primary-moving",
        { ...context, mayHaveApplied: false },
        error,
      );
    default: {
      if (fault.label === UNANSWERED_COMMIT) {
        return unavailable(
          `prisma-split: ${node.name} (${node.role}) did not answer the transaction's COMMIT: it may or may not have committed (outcome unknown)`,
          node,
          context.closing ? "shutting-down" : "unreachable",
          context,
          error,
        );
      }
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

/** The node, what was refused, why and what to change; never a password. */
function describeConfigurationFault(fault: Fault, error: unknown, node: DbNode): string {
  const where = `prisma-split: ${node.name} (${node.role}, ${node.settings.redactedUrl})`;
  if (fault.problem === "password-function") {
    return (
      `${where}: no connection could be opened: ${fault.label}. Nothing was sent to the server; ` +
      "fix the `password` function of the `pool` option (or what it asks for the password)."
    );
  }
  const advice = configurationAdvice(fault, error, node.settings);
  const setting = node.role === "primary" ? "primaryUrl / DATABASE_URL" : "replicaUrls / DATABASE_REPLICA_URLS";
  return (
    `${where} refused the connection: ${fault.label}${advice === undefined ? "" : `: ${advice}`}. ` +
    `This is a setting, not an outage: check ${setting} and the server's configuration.`
  );
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
    outcome: context.mayHaveApplied ? "unknown" : "not-applied",
    retryAfterSeconds: context.retryAfterSeconds,
    cause,
  });
}

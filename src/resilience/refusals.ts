import { DatabaseUnavailableError, type NodeRole } from "../errors.js";

/**
 * The 503s prisma-split answers without sending anything: the call was refused before it reached
 * a server, so `outcome` is always `not-applied`. One constructor each, so every refusal of a kind
 * reads the same wherever it is made.
 */

/** A call made, or a retry due, once shutdown has begun. */
export function shuttingDownError(role: NodeRole, why: string, node?: string): DatabaseUnavailableError {
  return new DatabaseUnavailableError(`prisma-split: ${why}: no new queries are accepted`, {
    role,
    ...(node === undefined ? {} : { node }),
    reason: "shutting-down",
    outcome: "not-applied",
  });
}

/** A node's bulkhead shed the call: no connection would have come free within `pool_timeout`. */
export function overloadedError(node: { role: NodeRole; name: string }, why: string): DatabaseUnavailableError {
  return new DatabaseUnavailableError(`prisma-split: ${why}`, {
    role: node.role,
    node: node.name,
    reason: "overloaded",
    outcome: "not-applied",
  });
}

/** A node's breaker is open: the call fails fast until its trial call. */
export function breakerOpenError(
  node: { role: NodeRole; node: string },
  retryAfterSeconds: number,
): DatabaseUnavailableError {
  return new DatabaseUnavailableError(
    `prisma-split: the circuit breaker of ${node.node} (${node.role}) is open after repeated failures`,
    { role: node.role, node: node.node, reason: "breaker-open", outcome: "not-applied", retryAfterSeconds },
  );
}

import type { DbNode } from "../nodes/db-node.js";

/**
 * The candidates the replica monitor last saw at most `maxLagMs` behind the primary (a per-call
 * bound, `$replica({ maxLagMs })`); a replica whose lag is not known (no poll yet, monitor off)
 * is not among them.
 */
export function withinLag(candidates: readonly DbNode[], maxLagMs: number): readonly DbNode[] {
  return candidates.filter((replica) => {
    const lagMs = replica.observed?.lagMs;
    return lagMs !== undefined && lagMs <= maxLagMs;
  });
}

import type { QueryConfig } from "pg";
import type { DbNode } from "../../nodes/db-node.js";
import type { Policy } from "../../resilience/policy.js";
import type { Router } from "../router.js";
import type { CatalogQuery } from "./raw-query-classifier.js";
import type { RoutineRow } from "./routine-catalog.js";

/** pg's client-side bound of one catalog query; on expiry pg-pool destroys the connection. */
const CATALOG_QUERY_TIMEOUT_MS = 2000;

/**
 * Runs the raw-query classifier's catalog queries on a node that serves reads, as a read would
 * be routed (a replica in rotation, else the primary when fallback allows), and on the primary
 * if that fails. A streaming replica's catalog is the primary's, replayed: asking it keeps the
 * lookups off the primary, and keeps read-only raw queries served while the primary is down. A
 * replica behind on a `CREATE FUNCTION` answers "absent", which only sends the query to the
 * primary for a while. Each query passes the node's guard (breaker, bulkhead) like any other.
 *
 * @param closed true once the final shutdown began: no node is asked (a pool would reopen).
 * @example
 * const classifier = new RawQueryClassifier(catalogReader(router, guards, () => state.closed));
 */
export function catalogReader(
  router: Router,
  guards: ReadonlyMap<DbNode, Policy>,
  closed: () => boolean,
): CatalogQuery {
  return async (text, values) => {
    let failure: unknown = new Error("prisma-split: no node to read the catalog from");
    for (const node of catalogNodes(router)) {
      if (closed()) break;
      const guard = guards.get(node);
      const query: QueryConfig & { query_timeout: number } = { text, values, query_timeout: CATALOG_QUERY_TIMEOUT_MS };
      const run = () => node.pool.query<RoutineRow>(query);
      try {
        const result = guard === undefined ? await run() : await guard.execute(run, undefined);
        return result.rows;
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  };
}

function catalogNodes(router: Router): DbNode[] {
  let first: DbNode | undefined;
  try {
    first = router.routeRead("read").node;
  } catch {
    // No replica serves reads and fallback is off: the primary still has the catalog.
  }
  return first === undefined || first === router.primary ? [router.primary] : [first, router.primary];
}

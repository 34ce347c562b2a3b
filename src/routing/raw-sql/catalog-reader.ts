import type { QueryConfig } from "pg";
import type { DbNode, NodeTask } from "../../nodes/db-node.js";
import { SERVER_TEXT, serverBoolean } from "../../pool/server-text.js";
import type { CatalogQuery } from "./raw-query-classifier.js";
import type { RoutineRow } from "./routine-catalog.js";

/** pg's client-side bound of one catalog query; on expiry pg-pool destroys the connection. */
const CATALOG_QUERY_TIMEOUT_MS = 2000;

/**
 * Runs the raw-query classifier's catalog queries on a replica in rotation, and on the primary
 * when there is none or it fails. A streaming replica's catalog is the primary's, replayed:
 * asking it keeps the lookups off the primary, and read-only raw queries served while the
 * primary is down. A replica behind on a `CREATE FUNCTION` answers "absent", which only sends
 * the query to the primary for a while. Each query passes the node's guard (breaker, bulkhead).
 *
 * @param closed true once the final shutdown began: no node is asked (a pool would reopen).
 * @example
 * const classifier = new RawQueryClassifier(catalogReader(router, guards, () => state.closed));
 */
export function catalogReader(
  router: CatalogNodes,
  guards: ReadonlyMap<DbNode, { run(task: NodeTask): Promise<unknown> }>,
  closed: () => boolean,
): CatalogQuery {
  return async (text, values) => {
    let failure: unknown = new Error("prisma-split: no node to read the catalog from");
    for (const node of catalogNodes(router)) {
      if (closed()) break;
      const guard = guards.get(node);
      // The server's text, not the user's `types`: a bool parser of the app must not make every
      // function look volatile (or none).
      const query: QueryConfig & { query_timeout: number } = {
        text,
        values,
        types: SERVER_TEXT,
        query_timeout: CATALOG_QUERY_TIMEOUT_MS,
      };
      const task = { startOn: () => node.pool.query<CatalogTextRow>(query) };
      try {
        const result = (guard === undefined ? await task.startOn() : await guard.run(task)) as {
          rows: CatalogTextRow[];
        };
        return result.rows.map(routineRow);
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  };
}

/** A catalog row as the server's text: booleans are `t` / `f`. */
type CatalogTextRow = Omit<RoutineRow, "volatile" | "calls_volatile"> & { volatile: string; calls_volatile: string };

/** NULL (no routine of that kind) reads as false, as `bool_or` of nothing is NULL. */
function routineRow(row: CatalogTextRow): RoutineRow {
  return {
    ...row,
    volatile: serverBoolean(row.volatile) ?? false,
    calls_volatile: serverBoolean(row.calls_volatile) ?? false,
  };
}

/** Where the catalog can be read: the primary and the replicas (the Router has them). */
export interface CatalogNodes {
  readonly primary: DbNode;
  readonly replicas: readonly DbNode[];
}

/** The first replica in rotation, then the primary; not the selector's pick: a lookup must not shift its turns. */
function catalogNodes(router: CatalogNodes): DbNode[] {
  const replica = router.replicas.find((node) => node.servesReads);
  return replica === undefined ? [router.primary] : [replica, router.primary];
}

import pg from "pg";
import type { PgNode } from "../cluster/index.ts";

/** An advisory lock a test holds on some servers; statements that take it wait until `release()`. */
export interface HeldLock {
  /**
   * SQL to put in a statement's FROM list (`SELECT 1 AS x FROM ${waitSql}`): the statement waits
   * on the server until the lock is released, then takes it for its own transaction only.
   */
  readonly waitSql: string;
  /** Sessions waiting for the lock on `node` right now. */
  waiting(node: PgNode): Promise<number>;
  /** Releases the lock on every server (idempotent): the waiting statements go on. */
  release(): Promise<void>;
}

let lastKey = 0;

/**
 * Holds an advisory lock on each of `nodes` from a session of its own, so that a test decides
 * when a "slow" statement ends instead of racing a `pg_sleep` on a busy machine. A standby takes
 * advisory locks too. Raw SQL that names an advisory-lock function is routed to the primary: send
 * it through `$replica()` to make it wait on a replica.
 *
 * @example
 * const lock = await holdLock([cluster().primary]);
 * const slow = db.$primary().$queryRawUnsafe(`SELECT 1 AS x FROM ${lock.waitSql}`);
 * await expect.poll(() => lock.waiting(cluster().primary)).toBe(1);
 * await lock.release();
 */
export async function holdLock(nodes: readonly PgNode[]): Promise<HeldLock> {
  lastKey += 1;
  const key = 910_000 + lastKey;
  const sessions = new Map<PgNode, pg.Client>();
  const release = async () => {
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map((session) => session.end().catch(() => {})));
  };
  try {
    for (const node of nodes) {
      const session = new pg.Client({ connectionString: node.url, application_name: "test/held-lock" });
      sessions.set(node, session);
      await session.connect();
      await session.query("SELECT pg_advisory_lock($1)", [key]);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return {
    waitSql: `pg_advisory_xact_lock_shared(${key})`,
    async waiting(node) {
      // A key below 2^32 is held as classid 0, objid key.
      const rows = await node.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = 0 AND objid = $1",
        [key],
      );
      return rows[0]?.n ?? 0;
    },
    release,
  };
}

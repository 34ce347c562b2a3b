import { pollUntil } from "./replication.js";
import type { DevNode } from "./types.js";

/** Promotes a standby and waits until it takes writes (`pg_promote` waits for the end of recovery). */
export async function promote(node: DevNode, timeoutMs = 60_000): Promise<void> {
  await node.query(`SELECT pg_promote(true, ${Math.ceil(timeoutMs / 1000)})`);
  await pollUntil(`${node.name} to take writes`, timeoutMs, async () => {
    const [row] = await node.query<{ in_recovery: boolean }>("SELECT pg_is_in_recovery() AS in_recovery");
    return row?.in_recovery === false;
  });
}

/**
 * Points a running standby at another primary: `primary_conninfo` is reloadable (PostgreSQL 13+),
 * and `recovery_target_timeline = latest` (the default) makes it follow the promotion's new timeline.
 */
export async function repoint(replica: DevNode, conninfo: string): Promise<void> {
  await replica.query(`ALTER SYSTEM SET primary_conninfo = '${conninfo.replaceAll("'", "''")}'`);
  await replica.query("SELECT pg_reload_conf()");
}

/** Waits until `standby` streams from the primary: it is in recovery and the primary lists its walsender. */
export function waitUntilStreaming(primary: DevNode, standby: DevNode, timeoutMs = 60_000): Promise<void> {
  return pollUntil(`${standby.name} to stream from ${primary.name}`, timeoutMs, async () => {
    const [row] = await standby.query<{ in_recovery: boolean; status: string | null }>(
      "SELECT pg_is_in_recovery() AS in_recovery, (SELECT status FROM pg_stat_wal_receiver) AS status",
    );
    return row?.in_recovery === true && row.status === "streaming";
  });
}

import { setTimeout as sleep } from "node:timers/promises";
import type { DevNode } from "./types.js";

const pollIntervalMs = 20;

/**
 * Calls `check` until it returns true. Errors (e.g. a replica still starting up) count as
 * "not yet"; the last one is reported if time runs out.
 */
export async function pollUntil(description: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError ? ` Last error: ${(lastError as Error).message}` : "";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}.${reason}`);
    }
    await sleep(pollIntervalMs);
  }
}

export function waitForReplayPaused(replica: DevNode, timeoutMs: number): Promise<void> {
  return pollUntil(`WAL replay on ${replica.name} to pause`, timeoutMs, async () => {
    const [row] = await replica.query<{ state: string }>("SELECT pg_get_wal_replay_pause_state() AS state");
    return row?.state === "paused";
  });
}

type ReplayStatus = {
  pause_state: string;
  replay_lsn: string | null;
  caught_up: boolean | null;
};

/** Where to look when a node misbehaves (its log file, or how to see a container's logs). */
export type LogHint = (node: DevNode) => string;

async function waitForReplica(replica: DevNode, targetLsn: string, timeoutMs: number, logHint: LogHint): Promise<void> {
  let lastReplayLsn: string | null = null;
  try {
    await pollUntil(`${replica.name} to replay up to ${targetLsn}`, timeoutMs, async () => {
      // Skip a replica stopped (or paused) by the test meanwhile: it is not expected to catch up.
      if (!replica.isRunning()) return true;
      const [status] = await replica.query<ReplayStatus>(
        `SELECT pg_get_wal_replay_pause_state() AS pause_state,
                pg_last_wal_replay_lsn()::text AS replay_lsn,
                pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up`,
        [targetLsn],
      );
      lastReplayLsn = status?.replay_lsn ?? null;
      return status?.pause_state !== "not paused" || status?.caught_up === true;
    });
  } catch (error) {
    throw new Error(
      `${(error as Error).message} (replayed up to ${lastReplayLsn ?? "unknown"}; log: ${logHint(replica)})`,
    );
  }
}

/**
 * Waits until each running, non-paused replica has replayed everything the primary has written
 * by now. Commits are synchronous on the primary, so this covers every committed transaction.
 */
export async function waitUntilReplicasCaughtUp(
  primary: DevNode,
  replicas: readonly DevNode[],
  timeoutMs: number,
  logHint: LogHint,
): Promise<void> {
  if (!primary.isRunning()) throw new Error("waitForReplicas: the primary is not running.");
  const [row] = await primary.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
  const targetLsn = row?.lsn as string;
  const running = replicas.filter((replica) => replica.isRunning());
  await Promise.all(running.map((replica) => waitForReplica(replica, targetLsn, timeoutMs, logHint)));
}

/** Waits until `node` answers a query (a replica answers once it is consistent enough for read-only connections). */
export function waitUntilAcceptingQueries(node: DevNode, timeoutMs: number): Promise<void> {
  return pollUntil(`${node.name} to accept connections`, timeoutMs, async () => {
    await node.query("SELECT 1");
    return true;
  });
}

import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, PgNode } from "../../cluster/index.ts";
import type { ScenarioRow } from "./report.ts";

/** A user the load's posts belong to, created on the primary and replayed by every replica; its id. */
export async function seedAuthor(cluster: Cluster, email: string): Promise<number> {
  const [author] = await cluster.primary.query<{ id: number }>("INSERT INTO users (email) VALUES ($1) RETURNING id", [
    email,
  ]);
  await cluster.waitForReplicas();
  return author!.id;
}

/** A scenario's row of the chaos table: its samples, acknowledged writes found once, what it left behind. */
export async function scenarioRow(
  cluster: Cluster,
  scenario: string,
  result: { readonly samples: ScenarioRow["samples"]; readonly acknowledged: readonly string[] },
  before: { timers: number; sockets: number },
): Promise<ScenarioRow> {
  return {
    scenario,
    samples: result.samples,
    exactlyOnce: await countExactlyOnce(cluster, result.acknowledged),
    acknowledged: result.acknowledged.length,
    leftovers: await leftovers(cluster, before),
  };
}

/** How many acknowledged titles exist exactly once on the primary. */
export async function countExactlyOnce(cluster: Cluster, titles: readonly string[]): Promise<number> {
  const counts = await titleCounts(cluster.primary, titles);
  return titles.filter((title) => counts.get(title) === 1).length;
}

/** How many posts each of `titles` has on `primary` (a title absent from the map has none). */
export async function titleCounts(
  primary: Pick<PgNode, "query">,
  titles: readonly string[],
): Promise<Map<string, number>> {
  if (titles.length === 0) return new Map();
  const rows = await primary.query<{ title: string; n: string }>(
    "SELECT title, count(*) AS n FROM posts WHERE title = ANY($1) GROUP BY title",
    [titles],
  );
  return new Map(rows.map((row) => [row.title, Number(row.n)]));
}

/** Sessions prisma-split still holds on any node (its pools name themselves prisma-split/<node>). */
export async function openSessions(cluster: Cluster): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) {
    if (!node.isRunning()) continue;
    const rows = await node.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'prisma-split/%'",
    );
    total += Number(rows[0]?.n ?? 0);
  }
  return total;
}

/** Counts of the process's live timers and sockets, to compare before and after a scenario. */
export function resourceCounts(): { timers: number; sockets: number } {
  const resources = process.getActiveResourcesInfo();
  return {
    timers: resources.filter((name) => name === "Timeout").length,
    sockets: resources.filter((name) => name === "TCPSocketWrap" || name === "TCPServerWrap").length,
  };
}

/**
 * Waits until no session, timer or socket of the scenario is left; returns what is still there
 * ("none" when clean). Backends exit a moment after their client said goodbye: poll a little.
 */
export async function leftovers(cluster: Cluster, before: { timers: number; sockets: number }): Promise<string> {
  let last = "";
  for (let i = 0; i < 50; i++) {
    const sessions = await openSessions(cluster);
    const now = resourceCounts();
    const extraTimers = Math.max(0, now.timers - before.timers);
    const extraSockets = Math.max(0, now.sockets - before.sockets);
    if (sessions === 0 && extraTimers === 0 && extraSockets === 0) return "none";
    last = `${sessions} sessions, ${extraTimers} timers, ${extraSockets} sockets`;
    await sleep(100);
  }
  return last;
}

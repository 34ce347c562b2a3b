import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
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

/** What a load's writes must look like while its client is still connected. */
export interface LiveDurability {
  /** Acknowledged writes found exactly once, from another session, before `$disconnect()`. */
  readonly exactlyOnceLive: number;
  /** Backends of prisma-split left inside a transaction with nothing running (later writes would vanish in it). */
  readonly openTransactions: number;
  /** Writes answered by a `not-applied` 503 that are in the table anyway. */
  readonly notAppliedPresent: number;
}

/** Checks a load's writes from another session while its client still holds its pools. */
export async function liveDurability(
  cluster: Cluster,
  result: { readonly acknowledged: readonly string[]; readonly notApplied: readonly string[] },
): Promise<LiveDurability> {
  return {
    exactlyOnceLive: await countExactlyOnce(cluster, result.acknowledged),
    openTransactions: await openTransactions(cluster),
    notAppliedPresent: await countPresent(cluster, result.notApplied),
  };
}

/**
 * A scenario's row of the chaos table: its samples, acknowledged writes found once (before and
 * after `$disconnect()`), what it left behind.
 */
export async function scenarioRow(
  cluster: Cluster,
  scenario: string,
  result: { readonly samples: ScenarioRow["samples"]; readonly acknowledged: readonly string[] },
  before: { timers: number; sockets: number },
  live: LiveDurability,
): Promise<ScenarioRow> {
  return {
    scenario,
    samples: result.samples,
    ...live,
    exactlyOnce: await countExactlyOnce(cluster, result.acknowledged),
    acknowledged: result.acknowledged.length,
    leftovers: await leftovers(cluster, before),
  };
}

/**
 * Nothing acknowledged is lost or doubled, before and after `$disconnect()`; no backend is left
 * inside a transaction; no write answered `not-applied` took effect; nothing of the scenario is
 * left running.
 */
export function expectNothingLost(row: ScenarioRow): void {
  expect(row.acknowledged).toBeGreaterThan(0);
  expect(row.exactlyOnceLive).toBe(row.acknowledged);
  expect(row.exactlyOnce).toBe(row.acknowledged);
  expect(row.openTransactions).toBe(0);
  expect(row.notAppliedPresent).toBe(0);
  expect(row.leftovers).toBe("none");
}

/** How many of `titles` exist on the primary at all. */
export async function countPresent(cluster: Cluster, titles: readonly string[]): Promise<number> {
  if (titles.length === 0) return 0;
  const rows = await cluster.primary.query<{ n: string }>("SELECT count(*) AS n FROM posts WHERE title = ANY($1)", [
    titles,
  ]);
  return Number(rows[0]?.n ?? 0);
}

/** prisma-split's backends, on any running node, that sit inside a transaction with no statement running. */
export async function openTransactions(cluster: Cluster): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) {
    if (!node.isRunning()) continue;
    const rows = await node.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'prisma-split/%' AND state LIKE 'idle in transaction%'",
    );
    total += Number(rows[0]?.n ?? 0);
  }
  return total;
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

// Re-runs, on a real embedded primary + 2 streaming replicas, the rows of the table in issue 13
// ("a slow or misrouted query must never become a node outage") and prints each row's outcome.
// Run: npm run generate && npx tsx scripts/fault-table.ts   (about 40 s)

import { startCluster } from "../src/dev-cluster/index.ts";
import {
  type CreateDbOptions,
  createDb,
  type HealthReport,
  isDatabaseConfigurationError,
  isDatabaseUnavailable,
} from "../src/index.ts";
import { PrismaClient } from "../test/generated/prisma/client.ts";
import { TcpProxy } from "../test/integration/chaos/tcp-proxy.ts";

const migrations = new URL("../prisma/migrations", import.meta.url).pathname;
const cluster = await startCluster({ replicas: 2, migrationsDir: migrations });
type Options = Omit<CreateDbOptions<PrismaClient>, "PrismaClient">;
/** A client on the cluster; signals are left to this script. */
const open = (options: Options = {}) =>
  createDb({
    PrismaClient,
    primaryUrl: cluster.primaryUrl,
    replicaUrls: cluster.replicaUrls,
    shutdown: false,
    ...options,
  });
const rows: Array<[string, string]> = [];
let unique = 0;
const email = () => `table-${process.pid}-${++unique}@example.test`;

function outcome(error: unknown): string {
  if (isDatabaseUnavailable(error)) return `503 ${error.reason}`;
  if (isDatabaseConfigurationError(error)) return `DatabaseConfigurationError(${error.problem})`;
  const text = String((error as Error)?.message ?? error);
  const state = /Code: `(\w{5})`/.exec(text)?.[1] ?? /(57014)/.exec(text)?.[1];
  return state === undefined ? `error: ${text.slice(0, 60)}` : `query error ${state}`;
}
function tally(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => `${n}× ${item}`).join(", ");
}
async function settle(calls: Array<Promise<unknown>>): Promise<string[]> {
  return (await Promise.allSettled(calls)).map((r) => (r.status === "fulfilled" ? "ok" : outcome(r.reason)));
}
async function breakers(db: { $health(): Promise<HealthReport> }): Promise<string> {
  const health = await db.$health();
  return [health.primary, ...health.replicas]
    .map((n) => `${n.name} ${n.breaker}${n.inRotation ? "" : " (out)"}`)
    .join(", ");
}

try {
  {
    const db = open({ breaker: { timeout: 1000 } });
    const burst = await settle(Array.from({ length: 12 }, () => db.$queryRaw`select 1 as x from pg_sleep(1.5)`));
    const reads = await settle(Array.from({ length: 20 }, () => db.user.findMany({ take: 1 })));
    const writes = await settle(Array.from({ length: 5 }, () => db.user.create({ data: { email: email() } })));
    rows.push([
      "12 × pg_sleep(1.5) at breaker.timeout 1000, then 20 reads + 5 writes",
      `burst: ${tally(burst)}; reads: ${tally(reads)}; writes: ${tally(writes)}; breakers: ${await breakers(db)}`,
    ]);
    await db.$shutdown();
  }
  {
    const db = open({ breaker: { timeout: 1000 } });
    const ran: string[] = [];
    db.$events.on("query", (event) => ran.push(event.node));
    const started = performance.now();
    const [result] = await settle([db.$queryRaw`select 1 as x from pg_sleep(3)`]);
    rows.push([
      "one pg_sleep(3) read at breaker.timeout 1000",
      `${result}; ran on ${ran.join(", ")}; caller waited ${Math.round(performance.now() - started)} ms`,
    ]);
    await db.$shutdown();
  }
  {
    await cluster.primary.query(
      "CREATE TABLE IF NOT EXISTS bumps (id serial PRIMARY KEY); CREATE OR REPLACE FUNCTION bump_fn() RETURNS int LANGUAGE sql AS $$ INSERT INTO bumps DEFAULT VALUES RETURNING 1 $$",
    );
    await cluster.waitForReplicas();
    const db = open();
    const before = Number((await cluster.primary.query<{ n: string }>("SELECT count(*) AS n FROM bumps"))[0]?.n);
    const results: string[] = [];
    for (let i = 0; i < 12; i++) results.push(...(await settle([db.$queryRaw`select bump_fn() as r`])));
    const after = Number((await cluster.primary.query<{ n: string }>("SELECT count(*) AS n FROM bumps"))[0]?.n);
    rows.push([
      "12 × $queryRaw`select bump_fn()` (inserts; looks like a read)",
      `${tally(results)}; rows inserted ${after - before}; breakers: ${await breakers(db)}`,
    ]);
    await db.$shutdown();
  }
  {
    const db = open();
    const started = performance.now();
    const [result] = await settle([
      db.$transaction(async (tx) => tx.$queryRaw`select 1 as x from pg_sleep(11)`, { timeout: 60_000 }),
    ]);
    rows.push([
      "interactive $transaction({ timeout: 60000 }) with an 11 s statement, defaults",
      `${result} after ${Math.round(performance.now() - started)} ms`,
    ]);
    await db.$shutdown();
  }
  {
    const db = open({ primaryUrl: `${cluster.primaryUrl}?sslmode=require`, replicaUrls: [] });
    let retries = 0;
    db.$events.on("retry", () => retries++);
    const results = await settle(Array.from({ length: 6 }, () => db.user.count()));
    rows.push([
      "sslmode=require against a server without SSL (6 calls)",
      `${tally(results)}; retries ${retries}; breakers: ${await breakers(db)}`,
    ]);
    await db.$shutdown();
  }
  {
    const proxy = await new TcpProxy(cluster.replicas[0]!.port).listen();
    const replicaUrl = `postgresql://postgres@127.0.0.1:${proxy.port}/no_such_db`;
    const db = open({ replicaUrls: [replicaUrl], replicas: { pollIntervalMs: 100 } });
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    rows.push([
      "replica monitor polling a node that refuses the login (unknown database), poll 100 ms, 5 s",
      `${proxy.connections} connection attempts (one per poll would be 50)`,
    ]);
    await db.$shutdown();
    await proxy.close();
  }
  {
    const db = open();
    await db.user.count();
    await db.$disconnect();
    const [afterDisconnect] = await settle([db.user.count()]);
    await db.$disconnect();
    await db.$connect();
    const [afterConnect] = await settle([db.user.count()]);
    rows.push([
      "await db.$disconnect(); await db.user.count(); then $connect()",
      `count: ${afterDisconnect}; after $connect(): ${afterConnect}`,
    ]);
    await db.$shutdown();
  }
  {
    const db = open();
    await db.user.count();
    await cluster.primary.kill();
    const [read] = await settle([db.user.findMany({ take: 1 })]);
    const [write] = await settle([db.user.create({ data: { email: email() } })]);
    const ready = await db.$ready();
    const health = await db.$health();
    rows.push([
      "primary killed while reads are served",
      `$ready() ${ready}; $health(): status ${health.status}, ready ${health.ready}; a read: ${read}; a write: ${write}`,
    ]);
    await cluster.primary.start();
    await db.$shutdown();
  }
  {
    let message = "";
    try {
      createDb({ PrismaClient, primaryUrl: "postgresql://app:p@ss:w/rd%@host/db" });
    } catch (error) {
      message = (error as Error).message;
    }
    rows.push(['primaryUrl "postgresql://app:p@ss:w/rd%@host/db"', message]);
  }
} finally {
  await cluster.stop();
}

for (const [what, happened] of rows) console.log(`| ${what} | ${happened} |`);

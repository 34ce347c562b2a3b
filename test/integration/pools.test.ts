import { PrismaPg } from "@prisma/adapter-pg";
import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { useCluster } from "./harness.ts";
import { activeStatements } from "./observe.ts";

/** Polls pg_stat_activity while `work` runs; returns the most backends seen for `applicationName`. */
async function peakBackends(
  observe: (sql: string, params: unknown[]) => Promise<Array<{ count: number }>>,
  applicationName: string,
  work: Promise<unknown>,
): Promise<number> {
  let peak = 0;
  let done = false;
  const finished = work.finally(() => {
    done = true;
  });
  while (!done) {
    const [row] = await observe(
      "SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend'",
      [applicationName],
    );
    peak = Math.max(peak, row?.count ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await finished;
  return peak;
}

const sleepers = (run: () => Promise<unknown>, count: number) => Promise.all(Array.from({ length: count }, run));

describe("pools honour Prisma's URL parameters, which Prisma 7's adapter ignores", () => {
  const { cluster, db } = useCluster(1);
  const observe = (sql: string, params: unknown[]) => cluster().primary.query<{ count: number }>(sql, params);

  it("connection_limit=2 caps a node at 2 backends under 8 parallel queries", async () => {
    // No bulkhead: the pool alone must hold the line (with it, 2 of the 8 would be shed at once).
    const client = db({ primaryUrl: `${cluster().primaryUrl}?connection_limit=2`, bulkhead: false });
    const work = sleepers(() => client.$primary().$queryRaw`SELECT 1 AS one FROM pg_sleep(0.3)`, 8);
    const peak = await peakBackends(observe, "prisma-split/primary", work);
    console.info(`connection_limit=2, 8 parallel queries: peak ${peak} backends in pg_stat_activity`);
    expect(peak).toBe(2);
  });

  it("control: plain Prisma 7 with the same URL opens a backend per query", async () => {
    const url = `${cluster().primaryUrl}?connection_limit=2&application_name=plain-prisma`;
    const plain = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
    try {
      const work = sleepers(() => plain.$queryRaw`SELECT 1 AS one FROM pg_sleep(0.3)`, 8);
      const peak = await peakBackends(observe, "plain-prisma", work);
      console.info(`plain Prisma 7, same URL, 8 parallel queries: peak ${peak} backends`);
      expect(peak).toBeGreaterThan(2);
    } finally {
      await plain.$disconnect();
    }
  });

  it("pool_timeout bounds the wait for a free connection instead of waiting forever", async () => {
    const client = db({ primaryUrl: `${cluster().primaryUrl}?connection_limit=1&pool_timeout=0.2` });
    // Prisma promises are lazy: .then() starts the query that holds the only connection.
    const holder = client.$primary().$queryRaw`SELECT 1 AS one FROM pg_sleep(1.5) /* pool-holder */`.then(
      () => undefined,
    );
    // The holder runs on the server (so the only connection is taken) before the waiter asks.
    await expect.poll(() => activeStatements(cluster().primary, "pool-holder"), { timeout: 10_000 }).toBe(1);
    const started = Date.now();
    const waiter = await client.$primary().$queryRaw`SELECT 1 AS one`
      .then(() => "served")
      .catch((error: unknown) => error);
    const waited = Date.now() - started;
    await holder;
    expect(waiter).toBeInstanceOf(Error);
    expect(String((waiter as Error).message)).toMatch(/timeout/i);
    // Refused long before the holder released its connection.
    expect(waited).toBeLessThan(1400);
  });

  it("schema= selects the Postgres schema for Prisma's queries and the session's search_path", async () => {
    await cluster().primary.query(
      "CREATE SCHEMA IF NOT EXISTS tenant_a; CREATE TABLE IF NOT EXISTS tenant_a.users (LIKE public.users INCLUDING ALL)",
    );
    await cluster().primary.query("INSERT INTO tenant_a.users (email) VALUES ('only-in-tenant-a@example.test')");
    await cluster().waitForReplicas();
    const client = db({
      primaryUrl: `${cluster().primaryUrl}?schema=tenant_a`,
      replicaUrls: cluster().replicaUrls.map((url) => `${url}?schema=tenant_a`),
    });
    const users = await client.user.findMany();
    expect(users.map((user) => user.email)).toEqual(["only-in-tenant-a@example.test"]);
    const [path] = await client.$queryRaw<
      Array<{ search_path: string }>
    >`SELECT current_setting('search_path') AS search_path`;
    expect(path?.search_path).toBe('"tenant_a"');
  });

  it("$disconnect() closes every pool, is idempotent, and the next call opens them again; after $shutdown() calls fail with a 503", async () => {
    const client = db({ primaryUrl: `${cluster().primaryUrl}?application_name=to-disconnect` });
    await client.user.count();
    await client.$primary().user.count();
    await Promise.all([client.$disconnect(), client.$disconnect()]);
    await client.$disconnect();
    const [row] = await observe(
      "SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name IN ('to-disconnect', 'prisma-split/replica-0')",
      [],
    );
    expect(row?.count).toBe(0);
    await expect(client.user.count()).resolves.toBeTypeOf("number");
    await client.$shutdown();
    const after = await client.user.count().catch((error: unknown) => error);
    expect(isDatabaseUnavailable(after)).toBe(true);
    expect((after as { reason: string }).reason).toBe("shutting-down");
  });
});

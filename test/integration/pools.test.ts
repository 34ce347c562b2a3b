import { PrismaPg } from "@prisma/adapter-pg";
import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/index.ts";
import { splitStateOf } from "../../src/split-state.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { useCluster } from "./harness.ts";
import { type HeldLock, holdLock } from "./held-lock.ts";

describe("pools honour Prisma's URL parameters, which Prisma 7's adapter ignores", () => {
  const { cluster, db } = useCluster(1);
  const primary = () => cluster().primary;
  /** Client backends on the primary whose application_name is `applicationName`. */
  const backends = async (applicationName: string) =>
    (
      await primary().query<{ count: number }>(
        "SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend'",
        [applicationName],
      )
    )[0]!.count;
  // Each statement waits on a lock the test holds: the pool's state holds still while it is looked at.
  const blocked = (run: (sql: string) => Promise<unknown>, lock: HeldLock, count: number) =>
    Promise.all(Array.from({ length: count }, () => run(`SELECT 1 AS one FROM ${lock.waitSql}`)));

  it("connection_limit=2 caps a node at 2 backends under 8 parallel queries", async () => {
    // No bulkhead: the pool alone must hold the line (with it, 2 of the 8 would be shed at once).
    const client = db({ primaryUrl: `${cluster().primaryUrl}?connection_limit=2`, bulkhead: false });
    const lock = await holdLock([primary()]);
    try {
      const work = blocked((sql) => client.$primary().$queryRawUnsafe(sql), lock, 8);
      // All 8 asked: 2 on the server, waiting on the lock, and 6 in the pool's queue for a connection.
      const pool = () => splitStateOf(client)!.nodes[0]!.currentPool;
      await expect.poll(() => pool()?.waitingCount, { timeout: 10_000 }).toBe(6);
      await expect.poll(() => lock.waiting(primary()), { timeout: 10_000 }).toBe(2);
      const peak = await backends("prisma-split/primary");
      console.info(
        `connection_limit=2, 8 parallel queries: ${peak} backends in pg_stat_activity, 6 waiting in the pool`,
      );
      expect(peak).toBe(2);
      await lock.release();
      expect(await work).toHaveLength(8);
    } finally {
      await lock.release();
    }
  });

  it("control: plain Prisma 7 with the same URL opens a backend per query", async () => {
    const url = `${cluster().primaryUrl}?connection_limit=2&application_name=plain-prisma`;
    const plain = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
    const lock = await holdLock([primary()]);
    try {
      const work = blocked((sql) => plain.$queryRawUnsafe(sql), lock, 8);
      // Every one of the 8 reached the server: none waited for a connection.
      await expect.poll(() => lock.waiting(primary()), { timeout: 10_000 }).toBe(8);
      const peak = await backends("plain-prisma");
      console.info(`plain Prisma 7, same URL, 8 parallel queries: ${peak} backends`);
      expect(peak).toBeGreaterThan(2);
      await lock.release();
      await work;
    } finally {
      await lock.release();
      await plain.$disconnect();
    }
  });

  it("pool_timeout bounds the wait for a free connection instead of waiting forever", async () => {
    const client = db({ primaryUrl: `${cluster().primaryUrl}?connection_limit=1&pool_timeout=0.2` });
    const lock = await holdLock([primary()]);
    try {
      // The holder keeps the only connection until the lock is released.
      let held = true;
      const holder = blocked((sql) => client.$primary().$queryRawUnsafe(sql), lock, 1).finally(() => {
        held = false;
      });
      await expect.poll(() => lock.waiting(primary()), { timeout: 10_000 }).toBe(1);
      const started = Date.now();
      const waiter = await client.$primary().$queryRaw`SELECT 1 AS one`
        .then(() => "served")
        .catch((error: unknown) => error);
      const waited = Date.now() - started;
      expect(waiter).toBeInstanceOf(Error);
      expect(String((waiter as Error).message)).toMatch(/timeout/i);
      // Refused while the holder still had its connection, and soon after pool_timeout.
      expect(held).toBe(true);
      expect(waited).toBeLessThan(1400);
      await lock.release();
      await holder;
    } finally {
      await lock.release();
    }
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
    const client = db({
      primaryUrl: `${cluster().primaryUrl}?application_name=to-disconnect`,
      replicaUrls: cluster().replicaUrls.map((url) => `${url}?application_name=to-disconnect`),
    });
    // Every session of this client, on both servers (its monitor's too).
    const sessions = async () => {
      let total = 0;
      for (const node of cluster().nodes) {
        const rows = await node.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'to-disconnect'",
        );
        total += rows[0]!.n;
      }
      return total;
    };
    await client.user.count();
    await client.$primary().user.count();
    expect(await sessions()).toBeGreaterThanOrEqual(2); // a pool's connection on each server, at least
    await Promise.all([client.$disconnect(), client.$disconnect()]);
    await client.$disconnect();
    // Backends exit a moment after the client's goodbye.
    await expect.poll(sessions, { timeout: 10_000 }).toBe(0);
    await expect(client.user.count()).resolves.toBeTypeOf("number");
    await client.$shutdown();
    const after = await client.user.count().catch((error: unknown) => error);
    expect(isDatabaseUnavailable(after)).toBe(true);
    expect((after as { reason: string }).reason).toBe("shutting-down");
  });
});

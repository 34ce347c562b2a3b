import { describe, expect, it } from "vitest";
import { queryOnce } from "../../src/dev-cluster/sql.ts";
import type { NodeDescriptor, PoolOversubscribedEvent } from "../../src/index.ts";
import { splitStateOf } from "../../src/split-state.ts";
import { asUser, createPasswordRole } from "./fixtures/auth.ts";
import { portOf, uniqueEmail, useCluster } from "./harness.ts";

/**
 * The `pool` and `clientOptions` options on a real cluster: a role that must authenticate
 * (scram-sha-256 for this user only), its password given by a function called per connection.
 */
const { cluster, db } = useCluster(1);
const user = "split_app";
const secret = "s3cret-not-in-any-url";

async function refusedWithoutPassword(url: string): Promise<string> {
  return queryOnce(url, "SELECT 1").then(
    () => "accepted",
    (error: Error) => error.message,
  );
}

describe("per-node driver settings", () => {
  it("a password function authenticates every node's connections; the URLs hold no password", async () => {
    await createPasswordRole(cluster(), user, secret);
    const primaryUrl = asUser(cluster().primaryUrl, user);
    const replicaUrl = asUser(cluster().replicaUrls[0] as string, user);
    // The control: without it, the server asks for a password the URL does not have.
    await expect.poll(() => refusedWithoutPassword(primaryUrl), { timeout: 10_000 }).toMatch(/password/);
    await expect.poll(() => refusedWithoutPassword(replicaUrl), { timeout: 10_000 }).toMatch(/password/);

    const asked: NodeDescriptor[] = [];
    let tokens = 0;
    const app = db({
      primaryUrl,
      replicaUrls: [replicaUrl],
      pool: (node) => {
        asked.push(node);
        return {
          password: async () => {
            tokens += 1;
            return secret;
          },
          application_name: `app/${node.name}`,
        };
      },
      clientOptions: ({ role }) => ({ errorFormat: role === "primary" ? "minimal" : "colorless" }),
    });
    expect(asked.map(({ name, role, index }) => ({ name, role, index }))).toEqual([
      { name: "primary", role: "primary", index: -1 },
      { name: "replica-0", role: "replica", index: 0 },
    ]);
    expect(asked[1]?.url).toBe(replicaUrl);

    const email = uniqueEmail("pool");
    await app.user.create({ data: { email } });
    await cluster().waitForReplicas();
    expect(await app.user.count({ where: { email } })).toBe(1);
    // Reads reach the replica once its monitor (which logs in with the same function) admits it.
    await expect
      .poll(async () => portOf(await app.nodeInfo.findMany()), { timeout: 10_000 })
      .toBe(cluster().replicas[0]?.port);
    expect(tokens).toBeGreaterThanOrEqual(2);

    // Our own settings and the user's both reached the server: the role, and the name it chose.
    const sessions = await cluster().primary.query<{ usename: string; application_name: string }>(
      "SELECT usename, application_name FROM pg_stat_activity WHERE usename = $1",
      [user],
    );
    expect(sessions.length).toBeGreaterThan(0);
    expect(new Set(sessions.map((s) => s.application_name))).toEqual(new Set(["app/primary"]));
    await app.$disconnect();
  });

  it("md5 authentication too: the function's password is hashed by pg as the server asks", async () => {
    await createPasswordRole(cluster(), "split_md5", secret, "md5");
    const primaryUrl = asUser(cluster().primaryUrl, "split_md5");
    await expect.poll(() => refusedWithoutPassword(primaryUrl), { timeout: 10_000 }).toMatch(/password/);
    const app = db({ primaryUrl, replicaUrls: [], pool: { password: () => secret } });
    expect(await app.$queryRaw`SELECT current_user::text AS role`).toEqual([{ role: "split_md5" }]);
    await app.$disconnect();
  });

  it("a wrong password is a configuration error at once, never a 503 after retries, and names no password", async () => {
    const app = db({
      primaryUrl: asUser(cluster().primaryUrl, user),
      replicaUrls: [],
      pool: { password: () => "wrong-password" },
    });
    const error = await app.user.count().catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    console.log(`wrong password: ${(error as Error).name}: ${(error as Error).message}`);
    expect((error as Error).message).toMatch(/authentication failed/);
    expect(String((error as Error).message)).not.toContain("wrong-password");
    expect((error as { status?: number }).status).not.toBe(503);
  });

  it("a per-node pool.max is the size the pool gets and the size the pool check counts", async () => {
    // By the URLs alone the primary's pools would not fit (20 × 30 > 90) and the replica's would
    // (20 × 1); the overrides turn both around (20 × 3 fits, 20 × 5 = 100 does not).
    const app = db({
      primaryUrl: `${cluster().primaryUrl}?connection_limit=30`,
      replicaUrls: [`${cluster().replicaUrls[0]}?connection_limit=1`],
      pool: ({ role }) => ({ max: role === "primary" ? 3 : 5 }),
      poolCheck: { instances: 20, reserved: 10 },
    });
    const events: PoolOversubscribedEvent[] = [];
    app.$events.on("pool:oversubscribed", (event) => events.push(event));
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      // Six statements at once on the primary: pg opens as many connections as its max lets it.
      await Promise.all(Array.from({ length: 6 }, () => app.$primary().$queryRaw`select 1 as x from pg_sleep(0.2)`));
      const primary = splitStateOf(app)?.nodes[0];
      expect(primary?.currentPool?.totalCount).toBe(3);

      const report = await app.$health();
      expect(report.primary.pool.max).toBe(3);
      expect(report.replicas[0]?.pool.max).toBe(5);
      // The check ran for both servers (the positive signal), each pool counted at its override.
      expect(report.primary.connections).toMatchObject({ perInstance: 3, planned: 60, budget: 90, fits: true });
      expect(report.replicas[0]?.connections).toMatchObject({ perInstance: 5, planned: 100, fits: false });
      expect(events.map(({ nodes, planned }) => ({ nodes, planned }))).toEqual([
        { nodes: ["replica-0"], planned: 100 },
      ]);
      await expect
        .poll(() =>
          warnings.filter((warning) => (warning as { code?: string }).code === "PRISMA_SPLIT_POOL_OVERSUBSCRIBED"),
        )
        .toHaveLength(1);
      expect(warnings.find((warning) => warning.message.includes("replica-0"))?.message).toContain(
        "20 instance(s) x 5 connections = 100 exceeds max_connections 100 - 10 reserved = 90",
      );
    } finally {
      process.off("warning", onWarning);
      await app.$disconnect();
    }
  });

  it("refuses options it cannot use at createDb(), naming them", () => {
    expect(() => db({ pool: "ssl" as never })).toThrow(/pool: must be an object or a function of the node/);
    expect(() => db({ pool: { connectionString: "postgresql://x@y/z" } })).toThrow(/pool\.connectionString/);
    expect(() => db({ pool: () => 42 as never })).toThrow(/pool\(primary\): must return an object or undefined/);
    expect(() => db({ clientOptions: () => ({ adapter: {} }) })).toThrow(/clientOptions\(primary\)\.adapter/);
    // pg takes a max of -1 without a word, and every query then waits forever.
    expect(() => db({ pool: { max: -1 } })).toThrow(/pool\.max: must be an integer from 1 to 262143, got -1/);
  });
});

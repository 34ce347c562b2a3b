import pg from "pg";
import { describe, expect, it } from "vitest";
import { queryOnce } from "../../src/dev-cluster/sql.ts";
import type { NodeDescriptor, PoolOversubscribedEvent, TopologyChangeEvent } from "../../src/index.ts";
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

  it("a password function that throws, rejects or returns no string: a DatabaseConfigurationError naming the node, never the secret", async () => {
    await createPasswordRole(cluster(), "split_fn", secret);
    const primaryUrl = asUser(cluster().primaryUrl, "split_fn");
    await expect.poll(() => refusedWithoutPassword(primaryUrl), { timeout: 10_000 }).toMatch(/password/);
    const failing: Array<[password: () => unknown, problem: RegExp]> = [
      [
        () => {
          throw new Error("vault is down");
        },
        /the password function of primary failed: Error: vault is down/,
      ],
      [
        () => Promise.reject(new TypeError("token expired")),
        /the password function of primary failed: TypeError: token expired/,
      ],
      [() => undefined, /the password function of primary returned undefined, not a password string/],
      // The secret in the wrong shape: named by its kind, never shown.
      [
        () => ({ token: secret }),
        /the password function of primary returned an object \(Object\), not a password string/,
      ],
    ];
    for (const [password, problem] of failing) {
      const app = db({ primaryUrl, replicaUrls: [], pool: { password: password as () => string } });
      const error = (await app.user.count().catch((e: unknown) => e)) as Error;
      expect(error, String(error)).toMatchObject({
        name: "DatabaseConfigurationError",
        problem: "password-function",
        node: "primary",
        role: "primary",
      });
      expect(error.message).toMatch(problem);
      expect(error.message).toContain("fix the `password` function of the `pool` option");
      expect(String(error)).not.toContain(secret);
      expect((error as { status?: number }).status).not.toBe(503);
      await app.$disconnect();
    }
  });

  it("only the replica's password function fails: every read is served by the primary at once; with nowhere else to go, the caller gets the configuration error", async () => {
    await createPasswordRole(cluster(), "split_fn2", secret);
    const primaryUrl = asUser(cluster().primaryUrl, "split_fn2");
    const replicaUrl = asUser(cluster().replicaUrls[0] as string, "split_fn2");
    await expect.poll(() => refusedWithoutPassword(replicaUrl), { timeout: 10_000 }).toMatch(/password/);
    let replicaAsked = 0;
    const app = db({
      primaryUrl,
      replicaUrls: [replicaUrl],
      // No monitor: the replica stays in rotation, so every read goes there first.
      replicas: { pollIntervalMs: false },
      pool: ({ role }) => ({
        password:
          role === "primary"
            ? () => secret
            : async () => {
                replicaAsked += 1;
                throw new Error("the replica's token service is down");
              },
      }),
    });
    const ports = await Promise.all(
      Array.from({ length: 20 }, () => app.nodeInfo.findMany().then(portOf, (error: unknown) => error)),
    );
    expect(ports).toEqual(Array.from({ length: 20 }, () => cluster().primary.port));
    // The replica was tried (the positive signal), and its breaker did not count it.
    expect(replicaAsked).toBeGreaterThan(0);
    expect((await app.$health()).replicas[0]?.breaker).toBe("closed");

    // Nowhere else to go (no fallback to the primary): the caller gets the configuration error, not a 503.
    const noFallback = db({
      primaryUrl,
      replicaUrls: [replicaUrl],
      replicas: { pollIntervalMs: false, fallbackToPrimary: false },
      pool: ({ role }) => ({
        password:
          role === "primary"
            ? () => secret
            : () => {
                throw new Error("the replica's token service is down");
              },
      }),
    });
    const alone = (await noFallback.nodeInfo.findMany().catch((e: unknown) => e)) as Error;
    expect(alone).toMatchObject({
      name: "DatabaseConfigurationError",
      problem: "password-function",
      node: "replica-0",
    });
    expect(alone.message).toContain(
      "the password function of replica-0 failed: Error: the replica's token service is down",
    );
    expect((alone as { status?: number }).status).not.toBe(503);
    await noFallback.$disconnect();

    // Every node's function fails: the same, for the last node tried.
    const none = db({
      primaryUrl,
      replicaUrls: [replicaUrl],
      replicas: { pollIntervalMs: false },
      pool: {
        password: () => {
          throw new Error("no credentials");
        },
      },
    });
    const refused = (await none.nodeInfo.findMany().catch((e: unknown) => e)) as Error;
    expect(refused).toMatchObject({ name: "DatabaseConfigurationError", problem: "password-function" });
    expect((refused as { status?: number }).status).not.toBe(503);
    await app.$disconnect();
    await none.$disconnect();
  });

  it("with the monitor on, a replica whose password function fails leaves rotation and returns once it works", async () => {
    await createPasswordRole(cluster(), "split_fn3", secret);
    const replicaUrl = asUser(cluster().replicaUrls[0] as string, "split_fn3");
    await expect.poll(() => refusedWithoutPassword(replicaUrl), { timeout: 10_000 }).toMatch(/password/);
    let broken = true;
    const app = db({
      primaryUrl: asUser(cluster().primaryUrl, "split_fn3"),
      replicaUrls: [replicaUrl],
      replicas: { pollIntervalMs: 100 },
      pool: ({ role }) => ({
        password: () => {
          if (role === "replica" && broken) throw new Error("token service down");
          return secret;
        },
      }),
    });
    await expect.poll(async () => (await app.$health()).replicas[0]?.inRotation, { timeout: 10_000 }).toBe(false);
    expect(portOf(await app.nodeInfo.findMany())).toBe(cluster().primary.port);
    // Not backed off as a server's refusal is: the next poll after the function works brings it back.
    broken = false;
    await expect
      .poll(async () => portOf(await app.nodeInfo.findMany()), { timeout: 10_000 })
      .toBe(cluster().replicas[0]?.port);
    await app.$disconnect();
  });

  it("a node's `types` changes neither $health()'s roles, the monitor's, the LSN of read-your-writes, raw SQL's routing, nor Prisma's results", async () => {
    // A bool parser that returns strings ("false" is truthy), a text parser that wraps the text.
    const types = {
      getTypeParser: (oid: number, format?: "text" | "binary") => {
        if (oid === 16) return (text: string) => (text === "t" ? "true" : "false");
        if (oid === 25) return (text: string) => ({ wrapped: text });
        return pg.types.getTypeParser(oid, format as never);
      },
    };
    const app = db({ pool: { types }, replicas: { pollIntervalMs: 100 } });
    const changes: TopologyChangeEvent[] = [];
    app.$events.on("topology:change", (event) => changes.push(event));
    // The control: the parsers do reach the node's pool (a plain pg query through it).
    const state = splitStateOf(app);
    const primaryPool = state?.nodes[0]?.currentPool;
    const { rows } = await (primaryPool as pg.Pool).query("SELECT false AS flag, 'x'::text AS word");
    expect(rows[0]).toEqual({ flag: "false", word: { wrapped: "x" } });

    const health = await app.$health();
    expect(health.primary).toMatchObject({ actualRole: "primary", roleCheck: "ok" });
    expect(health.replicas[0]).toMatchObject({ actualRole: "replica", roleCheck: "ok" });
    expect(health.status).toBe("ok");
    // Prisma parses its own results; read-your-writes reads the primary's position as text.
    const email = uniqueEmail("types");
    const found = await app.$withSession(async () => {
      const created = await app.user.create({ data: { email } });
      return { created, read: await app.user.findFirst({ where: { email } }) };
    });
    expect(found.read).toEqual(found.created);
    expect(typeof found.created.email).toBe("string");
    // The monitor has polled several times (the positive signal) and seen no other role.
    const polls = () => state?.monitor?.queriesSent().primary ?? 0;
    const before = polls();
    await expect.poll(polls, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 5);
    expect((await app.$health()).primary.actualRole).toBe("primary");
    expect(changes).toEqual([]);
    // The raw-SQL classifier reads the catalog's booleans as text too: "false" must not make a
    // stable built-in look volatile and send the query to the primary.
    expect(portOf(await app.$queryRawUnsafe("SELECT inet_server_port() AS port"))).toBe(cluster().replicas[0]?.port);
    await app.$disconnect();
  });
});

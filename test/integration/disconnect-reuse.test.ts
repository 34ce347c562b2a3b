import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/index.ts";
import { uniqueEmail, useCluster } from "./harness.ts";
import { holdLock } from "./held-lock.ts";
import { activeStatements } from "./observe.ts";

// DESIGN.md: `$disconnect()` means what it means in Prisma: it drains in-flight queries and
// closes every client, pool and timer, and the next query (or `$connect()`) opens them again.
// `$shutdown()` (and the signal handlers) are the final close: every call after it is a 503
// `shutting-down`. (A process that reuses a client after `$disconnect()` and exits by itself: disconnect.test.ts.)

const SHUTTING_DOWN = { status: 503, reason: "shutting-down" };

describe("$disconnect() and reuse; $shutdown() as the final close", () => {
  const { cluster, db } = useCluster(1);
  const replicaPort = () => cluster().replicas[0]!.port;
  /** The port of the server that answers a read of `client` (a replica) and one forced on the primary. */
  const answers = async (client: ReturnType<typeof db>) => [
    (await client.nodeInfo.findFirstOrThrow()).port,
    (await client.$primary().nodeInfo.findFirstOrThrow()).port,
  ];
  const bothNodes = () => [replicaPort(), cluster().primary.port];

  /** A client whose every connection (pools and replica monitor) carries `name` as its application_name. */
  const named = (name: string) =>
    db({
      primaryUrl: `${cluster().primaryUrl}?application_name=${name}`,
      replicaUrls: cluster().replicaUrls.map((url) => `${url}?application_name=${name}`),
    });
  /** Sessions that client holds, on every node. */
  const sessions = async (name: string) => {
    let total = 0;
    for (const node of cluster().nodes) {
      const rows = await node.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
        [name],
      );
      total += rows[0]?.n ?? 0;
    }
    return total;
  };

  it("a query after $disconnect() reopens the client and answers, again after a second $disconnect()", async () => {
    const client = named("reuse-query");
    for (let round = 0; round < 2; round++) {
      expect(await answers(client)).toEqual(bothNodes());
      // (Re)opened: the pools hold their connections while idle.
      expect(await sessions("reuse-query")).toBeGreaterThan(0);
      await client.$disconnect();
      // It did close: every session of this client ends (backends exit a moment after the goodbye).
      await expect.poll(() => sessions("reuse-query"), { timeout: 10_000 }).toBe(0);
    }
    await client.$disconnect();
    await client.$disconnect();
    // Routing is as before: reads on the replica, writes on the primary.
    expect(await answers(client)).toEqual(bothNodes());
    const email = uniqueEmail("reuse");
    await client.user.create({ data: { email } });
    expect(await cluster().primary.query("SELECT 1 FROM users WHERE email = $1", [email])).toHaveLength(1);
  });

  it("$connect() after $disconnect() resolves, and queries work", async () => {
    const client = named("reuse-connect");
    await client.user.count();
    await client.$disconnect();
    await expect(client.$connect()).resolves.toBeUndefined();
    expect(await answers(client)).toEqual(bothNodes());
  });

  it("$disconnect() still drains: a read in flight resolves with its row, and the client works afterwards", async () => {
    const client = named("reuse-drain");
    // The read waits on a lock the test holds: it is still in flight when $disconnect() begins.
    const lock = await holdLock([cluster().replicas[0]!]);
    try {
      const running = Promise.resolve(
        client.$replica().$queryRawUnsafe<Array<{ label: string }>>(`select 'drain' as label from ${lock.waitSql}`),
      );
      await expect
        .poll(() => activeStatements(cluster().replicas[0]!, "'drain' as label"), { timeout: 10_000 })
        .toBe(1);
      const disconnecting = client.$disconnect();
      await lock.release();
      await disconnecting;
      expect(await running).toEqual([{ label: "drain" }]);
    } finally {
      await lock.release();
    }
    expect(await answers(client)).toEqual(bothNodes());
  });

  it("$shutdown() is final: every call after it is a 503 shutting-down, and $connect()/$disconnect() do not reopen it", async () => {
    const client = named("final-shutdown");
    await client.user.count();
    await client.$shutdown();
    await expect(client.user.count()).rejects.toMatchObject(SHUTTING_DOWN);
    await expect(client.user.create({ data: { email: uniqueEmail("late") } })).rejects.toMatchObject(SHUTTING_DOWN);
    await expect(client.$queryRaw`select 1 as x`).rejects.toMatchObject(SHUTTING_DOWN);
    await expect(client.$transaction(async (tx) => tx.user.count())).rejects.toMatchObject(SHUTTING_DOWN);

    const connected = await client.$connect().then(
      () => "resolved",
      (error: unknown) => error,
    );
    if (connected !== "resolved") expect(connected).toMatchObject(SHUTTING_DOWN);
    await expect(client.user.count()).rejects.toMatchObject(SHUTTING_DOWN);
    await client.$disconnect().catch((error: unknown) => expect(isDatabaseUnavailable(error)).toBe(true));
    await expect(client.user.count()).rejects.toMatchObject(SHUTTING_DOWN);
    await expect.poll(() => sessions("final-shutdown"), { timeout: 10_000 }).toBe(0);
  });

  it("$shutdown() after $disconnect() is final too", async () => {
    const client = named("disconnect-then-shutdown");
    await client.user.count();
    await client.$disconnect();
    await client.$shutdown();
    await expect(client.user.count()).rejects.toMatchObject(SHUTTING_DOWN);
    await expect(client.$connect().then(() => client.user.count())).rejects.toMatchObject(SHUTTING_DOWN);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HedgeEvent } from "../../src/index.ts";
import { useCluster } from "./harness.ts";
import { activeStatements, outcomeOf } from "./observe.ts";
import { SlowProxy } from "./slow-proxy.ts";

// Issue 12: replicas chosen by how fast they answer, and hedged reads. Observed from outside:
// which server answered (`node_info`'s port), and what still runs on a server (pg_stat_activity).

describe("latency-aware reads on two real replicas", () => {
  const { cluster, db } = useCluster(2);
  let proxy: SlowProxy;
  const replicaPorts = () => cluster().replicas.map((replica) => replica.port);

  beforeAll(async () => {
    proxy = await new SlowProxy(cluster().replicas[0]!.port, { delayMs: 100 }).listen();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('"fastest" sends reads away from a replica that answers 100 ms later', async () => {
    const [slowUrl, fastUrl] = cluster().replicaUrls as [string, string];
    const client = db({ replicaUrls: [proxy.urlFor(slowUrl), fastUrl], replicas: { select: "fastest" } });
    // The first reads of each node pay for its connections and Prisma's first query: not a fair measure.
    for (let i = 0; i < 20; i++) await client.nodeInfo.findFirstOrThrow();
    const served: number[] = [];
    for (let i = 0; i < 40; i++) served.push((await client.nodeInfo.findFirstOrThrow()).port);
    const [slowPort, fastPort] = replicaPorts();
    const onSlow = served.filter((port) => port === slowPort).length;
    // It is tried again only as the news that it is slow fades (seconds).
    // (Round-robin would send it 20; a hiccup of a busy machine can make the fast one look slow for a moment.)
    expect(onSlow, served.join(",")).toBeLessThanOrEqual(8);
    expect(served.filter((port) => port === fastPort).length).toBeGreaterThanOrEqual(32);
  });

  it("a hedged read is answered by the other replica, and the slow statement is cancelled on its server", async () => {
    // Round-robin, so that the first read goes to replica-0, where this statement sleeps for 10 s.
    const client = db({ replicas: { select: "round-robin", hedge: { afterMs: 100, maxExtraRatio: 1 } } });
    const hedges: HedgeEvent[] = [];
    client.$events.on("hedge", (event) => hedges.push(event));
    const settled: string[] = [];
    client.$events.on("query", ({ node, error }) => {
      settled.push(`${node} ${error === undefined ? "ok" : outcomeOf({ status: "rejected", reason: error })}`);
    });
    const [slowPort, fastPort] = replicaPorts() as [number, number];
    const rows = await client.$replica().$queryRaw<Array<{ port: number }>>`
      SELECT inet_server_port() AS port, 'hedge-loser' AS label
      FROM pg_sleep(CASE WHEN inet_server_port() = ${slowPort} THEN 10 ELSE 0 END)`;
    expect(rows[0]?.port).toBe(fastPort);
    expect(hedges).toMatchObject([{ node: "replica-0", hedgeNode: "replica-1", afterMs: 100 }]);
    // The loser ends as cancelled (57014) well before its pg_sleep(10) would: it did run, and was
    // cancelled (one that had not reached the server yet would run its 10 s and end "ok").
    await expect.poll(() => settled, { timeout: 5_000 }).toContain("replica-0 57014");
    expect(await activeStatements(cluster().replicas[0]!, "'hedge-loser' AS label")).toBe(0);
  });

  it("never hedges a write, a transaction, $withPrimary, or a read pinned to the primary by read-your-writes", async () => {
    const client = db({ replicas: { hedge: { afterMs: 20, maxExtraRatio: 1 } } });
    const hedges: HedgeEvent[] = [];
    client.$events.on("hedge", (event) => hedges.push(event));
    await client.$executeRaw`SELECT pg_sleep(0.1)`;
    await client.$transaction([client.$queryRaw`SELECT 1 AS one FROM pg_sleep(0.1)`]);
    await client.$withPrimary(() => client.nodeInfo.findMany({ where: { port: { gt: 0 } } }));
    await client.$withPrimary(() => client.$queryRaw`SELECT 1 FROM pg_sleep(0.1)`);
    // "lsn" (the default): after a write, a read may go to a replica that has replayed it; it stays there.
    await client.$withSession(async () => {
      await client.$executeRaw`SELECT 1`;
      await client.$queryRaw`SELECT 1 AS one FROM pg_sleep(0.1)`;
    });
    expect(hedges).toEqual([]);
    // "session": after a write, the context's reads are on the primary.
    const sticky = db({
      replicas: { hedge: { afterMs: 20, maxExtraRatio: 1 } },
      consistency: { readYourWrites: "session" },
    });
    sticky.$events.on("hedge", (event) => hedges.push(event));
    const seen: string[] = [];
    sticky.$events.on("query", (event) => seen.push(`${event.node} ${event.reason} ${event.operation}`));
    await sticky.$withSession(async () => {
      await sticky.$executeRaw`SELECT 1`;
      const port = await sticky.$queryRaw<
        Array<{ port: number }>
      >`SELECT inet_server_port() AS port FROM pg_sleep(0.1)`;
      expect(port[0]?.port, seen.join("; ")).toBe(cluster().primary.port);
    });
    expect(hedges).toEqual([]);
  });

  it("under load, cancelling hedges' losers never fails another caller's statement", async () => {
    const [slowUrl, fastUrl] = cluster().replicaUrls as [string, string];
    proxy.set({ delayMs: 5 });
    // Every read that waits 2 ms is hedged: thousands of cancel requests, each racing the
    // connection's next statement.
    const client = db({
      replicaUrls: [proxy.urlFor(slowUrl), fastUrl],
      replicas: { hedge: { afterMs: 2, maxExtraRatio: 1 } },
    });
    let hedges = 0;
    client.$events.on("hedge", () => {
      hedges++;
    });
    const failures: unknown[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 1_000) {
          next++;
          await client.user.findFirst({ where: { id: next } }).catch((error: unknown) => failures.push(error));
        }
      }),
    );
    expect(failures.map(String).slice(0, 3)).toEqual([]);
    expect(hedges).toBeGreaterThan(100);
  });

  it("a replica's latencyMs is its statements' time on a connection, not the wait for one", async () => {
    // One connection per replica: 8 reads of 50 ms at once on replica-0 wait up to 350 ms for it.
    const urls = cluster().replicaUrls.map((url) => `${url}?connection_limit=1`);
    const latencies: (number | undefined)[] = [];
    const client = db({
      replicaUrls: urls,
      replicas: {
        select: (candidates) => {
          latencies.push(candidates.find((candidate) => candidate.index === 0)?.latencyMs);
          return candidates.find((candidate) => candidate.index === 0) ?? candidates[0]!;
        },
      },
    });
    const sleep = () => client.$replica().$queryRaw`SELECT 1 AS one FROM pg_sleep(0.05)`;
    await sleep();
    await Promise.all(Array.from({ length: 8 }, sleep));
    await sleep();
    const seen = latencies.at(-1) as number;
    // Timed from the call's start, the last of the 8 would make it ≥ 350 ms; timed per statement
    // it is at most one statement's 50 ms (plus what a busy machine adds).
    expect(seen, latencies.map((ms) => ms?.toFixed(0)).join(",")).toBeGreaterThan(0);
    expect(seen, latencies.map((ms) => ms?.toFixed(0)).join(",")).toBeLessThan(250);
  });
});

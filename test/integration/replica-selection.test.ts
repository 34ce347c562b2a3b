import { describe, expect, it } from "vitest";
import type { ReplicaCandidate } from "../../src/index.ts";
import { useCluster } from "./harness.ts";
import { holdLock } from "./held-lock.ts";

describe("replica selection across two real replicas", () => {
  const { cluster, db } = useCluster(2);
  const ports = () => cluster().replicas.map((replica) => replica.port);

  async function servedBy(client: ReturnType<typeof db>, reads: number): Promise<number[]> {
    const served: number[] = [];
    for (let i = 0; i < reads; i++) served.push((await client.nodeInfo.findFirstOrThrow()).port);
    return served;
  }

  it("round-robin alternates between the replicas", async () => {
    const [first, second] = ports();
    expect(await servedBy(db({ replicas: { select: "round-robin" } }), 4)).toEqual([first, second, first, second]);
  });

  it('"fastest" (the default) spreads concurrent reads over both replicas and nothing else', async () => {
    const client = db();
    const served = new Set<number>();
    await expect
      .poll(
        async () => {
          const batch = await Promise.all(Array.from({ length: 8 }, () => client.nodeInfo.findFirstOrThrow()));
          for (const { port } of batch) served.add(port);
          return [...served].sort();
        },
        { timeout: 10_000, interval: 20 },
      )
      .toEqual([...ports()].sort());
  });

  it("random reaches both replicas and nothing else", async () => {
    const served = new Set(await servedBy(db({ replicas: { select: "random" } }), 40));
    expect([...served].sort()).toEqual([...ports()].sort());
  });

  it("least-busy sends a read away from a replica that is busy with a slow query", async () => {
    const client = db({ replicas: { select: "least-busy" } });
    const events: string[] = [];
    client.$events.on("query", (event) => events.push(event.node));
    // The slow query waits on a lock the test holds on both replicas: it is still in flight when
    // the next reads are routed, however slow the machine, and ends when the test lets it.
    const lock = await holdLock(cluster().replicas);
    try {
      const slow = client.$replica().$queryRawUnsafe(`SELECT 1 AS done FROM ${lock.waitSql}`);
      const slowDone = slow.then(() => undefined);
      const waiting = () => Promise.all(cluster().replicas.map((replica) => lock.waiting(replica)));
      await expect.poll(waiting, { timeout: 10_000 }).toContain(1);
      const busy = (await waiting()).indexOf(1);
      const busyNode = cluster().replicas[busy]!.port;
      const next = await servedBy(client, 3);
      expect(next.every((port) => port !== busyNode)).toBe(true);
      await lock.release();
      await slowDone;
      expect(events[events.length - 1]).toBe(`replica-${busy}`);
    } finally {
      await lock.release();
    }
  });

  it("a user function chooses, among the healthy candidates", async () => {
    const seen: string[][] = [];
    const client = db({
      replicas: {
        select: (candidates: readonly ReplicaCandidate[]) => {
          seen.push(candidates.map((candidate) => candidate.name));
          return candidates[candidates.length - 1]!;
        },
      },
    });
    expect(await servedBy(client, 3)).toEqual([ports()[1], ports()[1], ports()[1]]);
    expect(seen[0]).toEqual(["replica-0", "replica-1"]);
  });

  it("with no replica configured, reads run on the primary", async () => {
    const client = db({ replicaUrls: [] });
    expect(await servedBy(client, 2)).toEqual([cluster().primary.port, cluster().primary.port]);
  });

  it("query events name the node that answered and why", async () => {
    const client = db();
    const events: Array<{ node: string; reason: string; operation: string; model: string | undefined }> = [];
    const stop = client.$events.on("query", ({ node, reason, operation, model }) =>
      events.push({ node, reason, operation, model }),
    );
    await client.nodeInfo.findMany();
    await client.$primary().nodeInfo.findMany();
    await client.$executeRaw`SELECT 1`;
    stop();
    await client.nodeInfo.findMany();
    expect(events).toEqual([
      { node: expect.stringMatching(/^replica-[01]$/), reason: "read", operation: "findMany", model: "nodeInfo" },
      { node: "primary", reason: "forced", operation: "findMany", model: "nodeInfo" },
      { node: "primary", reason: "write", operation: "$executeRaw", model: undefined },
    ]);
  });
});

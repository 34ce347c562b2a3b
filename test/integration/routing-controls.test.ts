import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { isReplicaInTransactionError, ReplicaInTransactionError } from "../../src/index.ts";
import { type TestDb, uniqueEmail, useCluster } from "./harness.ts";

/** `url` with `?name=value` added. */
function withParameter(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(name, value);
  return parsed.toString();
}

/** Every `query` event from now on, as `node reason` (and `zone` when it has one). */
function routes(db: TestDb): string[] {
  const seen: string[] = [];
  db.$events.on("query", ({ node, reason, zone }) => seen.push([node, reason, zone].filter(Boolean).join(" ")));
  return seen;
}

describe("routing controls: reads on the primary by default, transactions, zones, per-call staleness", () => {
  const { cluster, db } = useCluster(2);
  const primaryPort = () => cluster().primary.port;
  const replicaPorts = () => cluster().replicas.map((replica) => replica.port);
  const portOf = async (read: PromiseLike<{ port: number }>) => (await read).port;

  afterEach(async () => {
    // A test that failed half-way must not leave a replica paused for the next one.
    await Promise.all(cluster().replicas.map((replica) => cluster().resumeReplay(replica)));
  });

  it('reads: "primary" keeps every read on the primary unless the call opts into a replica', async () => {
    const client = db({ reads: "primary", replicas: { select: "round-robin" } });
    const seen = routes(client);
    expect(await portOf(client.nodeInfo.findFirstOrThrow())).toBe(primaryPort());
    expect(await client.user.count()).toBeGreaterThanOrEqual(0);
    const raw = await client.$queryRaw<{ port: number }[]>`SELECT inet_server_port() AS port`;
    expect(raw[0]?.port).toBe(primaryPort());

    expect(replicaPorts()).toContain(await portOf(client.$replica().nodeInfo.findFirstOrThrow()));
    const inScope = await client.$withReplica(async () => {
      const read = await client.nodeInfo.findFirstOrThrow();
      // Writes inside a replica scope still go to the primary.
      await client.user.create({ data: { email: uniqueEmail("replica-scope") } });
      return read.port;
    });
    expect(replicaPorts()).toContain(inScope);
    // $withPrimary inside $withReplica: the innermost decides.
    const nested = await client.$withReplica(() => client.$withPrimary(() => client.nodeInfo.findFirstOrThrow()));
    expect(nested.port).toBe(primaryPort());

    expect(seen).toEqual([
      "primary reads-primary",
      "primary reads-primary",
      "primary reads-primary",
      expect.stringMatching(/^replica-[01] forced$/),
      expect.stringMatching(/^replica-[01] read$/),
      "primary write",
      "primary forced",
    ]);
    // The monitor and health are as in the default mode: every replica probed and in rotation.
    const health = await client.$health();
    expect([health.primary, ...health.replicas].map((node) => [node.name, node.reachable])).toEqual([
      ["primary", true],
      ["replica-0", true],
      ["replica-1", true],
    ]);
  });

  it("tx.$primary() is the transaction itself and tx.$replica() says why it cannot be", async () => {
    const client = db();
    const email = uniqueEmail("in-transaction");
    const outcome = await client.$transaction(async (tx) => {
      await tx.user.create({ data: { email } });
      const same = tx.$primary();
      // The same transaction: its uncommitted row is visible, on the primary's connection.
      const row = await same.user.findUnique({ where: { email } });
      const raw = await same.$queryRaw<{ port: number }[]>`SELECT inet_server_port() AS port`;
      const port = raw[0]?.port;
      let refusal: unknown;
      try {
        tx.$replica();
      } catch (error) {
        refusal = error;
      }
      return { same: same === tx, found: row?.email, port, refusal };
    });
    expect(outcome.same).toBe(true);
    expect(outcome.found).toBe(email);
    expect(outcome.port).toBe(primaryPort());
    expect(outcome.refusal).toBeInstanceOf(ReplicaInTransactionError);
    expect(isReplicaInTransactionError(outcome.refusal)).toBe(true);
    expect((outcome.refusal as Error).message).toMatch(/one connection of the primary/);
  });

  it("preferZone reads from the zone's replica, and from the other zone only while it cannot serve, counted", async () => {
    const registry = new Registry();
    const [r0, r1] = cluster().replicaUrls as [string, string];
    const client = db({
      // Zones from the URLs' ?zone= (stripped before pg sees the URL).
      replicaUrls: [withParameter(r0, "zone", "zone-a"), withParameter(r1, "zone", "zone-b")],
      replicas: { preferZone: "zone-b", select: "round-robin", maxLagMs: 300, pollIntervalMs: 50 },
      metrics: { registry, prefix: "zones_" },
    });
    const [port0, port1] = replicaPorts();
    // An earlier test's writes may still be replaying somewhere: start from both in rotation.
    await cluster().waitForReplicas();
    await expect.poll(() => portOf(client.nodeInfo.findFirstOrThrow()), { timeout: 15_000 }).toBe(port1);
    const seen = routes(client);
    for (let i = 0; i < 4; i++) expect(await portOf(client.nodeInfo.findFirstOrThrow())).toBe(port1);
    expect(seen).toEqual(Array(4).fill("replica-1 read local"));

    // replica-1 falls behind: the monitor takes it out of rotation, and reads go to zone-a.
    await cluster().pauseReplay(cluster().replicas[1]!);
    await client.user.create({ data: { email: uniqueEmail("zone-lag") } });
    await expect.poll(() => portOf(client.nodeInfo.findFirstOrThrow()), { timeout: 15_000 }).toBe(port0);
    expect(seen.at(-1)).toBe("replica-0 read remote");

    // Back in rotation: back to the zone.
    await cluster().resumeReplay(cluster().replicas[1]!);
    await expect.poll(() => portOf(client.nodeInfo.findFirstOrThrow()), { timeout: 15_000 }).toBe(port1);

    const counted = await registry.getSingleMetric("zones_queries_routed_total")?.get();
    const byZone = (node: string, zone: string) =>
      counted?.values.find((value) => value.labels.node === node && value.labels.zone === zone)?.value ?? 0;
    expect(byZone("replica-1", "local")).toBeGreaterThanOrEqual(5);
    expect(byZone("replica-0", "remote")).toBeGreaterThanOrEqual(1);
    // One series per node and reason, as without zones.
    expect(counted?.values.every((value) => value.labels.zone !== "local" || value.labels.node === "replica-1")).toBe(
      true,
    );
  });

  it("$replica({ maxLagMs }) reads from a replica that close, else from the primary, saying why", async () => {
    // The rotation bound is loose: the paused replicas stay in rotation; only the call's bound differs.
    const client = db({ replicas: { select: "round-robin", maxLagMs: 60_000, pollIntervalMs: 50 } });
    const [node0, node1] = cluster().replicas;
    const [port0, port1] = replicaPorts();
    const lagOf = async (name: string) =>
      (await client.$health()).replicas.find((node) => node.name === name)?.lagMs ?? Number.NaN;

    await cluster().pauseReplay(node0!);
    await client.user.create({ data: { email: uniqueEmail("lag-0") } });
    await expect.poll(() => lagOf("replica-0"), { timeout: 15_000 }).toBeGreaterThan(500);
    const seen = routes(client);
    const bounded = client.$replica({ maxLagMs: 500 });
    for (let i = 0; i < 3; i++) expect(await portOf(bounded.nodeInfo.findFirstOrThrow())).toBe(port1);
    // Without a bound, the lagging replica still takes its turn.
    const unbounded = new Set<number>();
    for (let i = 0; i < 4; i++) unbounded.add(await portOf(client.nodeInfo.findFirstOrThrow()));
    expect([...unbounded].sort()).toEqual([port0, port1].sort());

    await cluster().pauseReplay(node1!);
    await client.user.create({ data: { email: uniqueEmail("lag-1") } });
    await expect.poll(() => lagOf("replica-1"), { timeout: 15_000 }).toBeGreaterThan(500);
    seen.length = 0;
    expect(await portOf(bounded.nodeInfo.findFirstOrThrow())).toBe(primaryPort());
    const inScope = await client.$withReplica({ maxLagMs: 500 }, () => client.nodeInfo.findFirstOrThrow());
    expect(inScope.port).toBe(primaryPort());
    expect(seen).toEqual(["primary max-lag", "primary max-lag"]);
    // A looser bound still finds them.
    expect(replicaPorts()).toContain(await portOf(client.$replica({ maxLagMs: 60_000 }).nodeInfo.findFirstOrThrow()));
  });

  it("refuses a bad bound before anything is sent", async () => {
    const client = db();
    expect(() => client.$replica({ maxLagMs: -1 })).toThrow(
      /\$replica\(options\)\.maxLagMs: must be a number of milliseconds ≥ 0/,
    );
    expect(() => client.$replica({ maxLag: 5 } as never)).toThrow(/maxLag: is not an option; known: maxLagMs/);
    await expect(client.$withReplica({ maxLagMs: "1s" } as never, () => 1)).rejects.toThrow(/maxLagMs/);
  });
});

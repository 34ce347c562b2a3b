import { describe, expect, it } from "vitest";
import type { TopologyChangeEvent } from "../../src/events.ts";
import { splitStateOf } from "../../src/split-state.ts";
import { TcpProxy } from "./chaos/tcp-proxy.ts";
import { uniqueEmail, useCluster, writeSucceeds } from "./harness.ts";

const POLL_MS = 200;

/** One URL for the whole cluster: both servers, libpq style, the writer not necessarily first. */
function clusterUrl(primaryUrl: string, replicaUrl: string, writerFirst: boolean): string {
  const primary = new URL(primaryUrl);
  const replica = new URL(replicaUrl);
  const hosts = writerFirst ? [primary.host, replica.host] : [replica.host, primary.host];
  return `postgresql://${primary.username}@${hosts.join(",")}${primary.pathname}?target_session_attrs=read-write`;
}

describe("topology: one multi-host URL follows the writer through a failover", () => {
  const { cluster, db } = useCluster(1);

  it("a single-host endpoint that reaches a standby: 503 primary-moving, no breaker opened, writes resume once it reaches the writer", async () => {
    // The "cluster endpoint" still resolves to the old writer, now a standby (the replica here).
    const proxy = await new TcpProxy(cluster().replicas[0]!.port).listen();
    try {
      const client = db({
        primaryUrl: `postgresql://postgres@127.0.0.1:${proxy.port}/app`,
        replicaUrls: [],
        replicas: { pollIntervalMs: POLL_MS },
      });
      const seen: string[] = [];
      client.$events.on("breaker:open", (event) => seen.push(`breaker:open ${event.node}`));
      client.$events.on("topology:change", (event) => seen.push(`${event.action} ${event.trigger}`));
      // Reads on the primary keep connections to the standby open in its pool (they succeed there).
      await Promise.all(Array.from({ length: 4 }, () => client.$primary().user.count()));
      const reasons: string[] = [];
      for (let i = 0; i < 3; i++) {
        await client.user.create({ data: { email: uniqueEmail("endpoint") } }).then(
          () => reasons.push("ok"),
          (error: { reason?: string }) => reasons.push(String(error.reason)),
        );
      }
      expect(new Set(reasons)).toEqual(new Set(["primary-moving"]));
      // The endpoint now resolves to the writer.
      proxy.repoint(cluster().primary.port);
      const repointedAt = performance.now();
      await expect.poll(() => writeSucceeds(client, "endpoint"), { timeout: 10_000, interval: 20 }).toBe(true);
      const resumedMs = performance.now() - repointedAt;
      // Never a breaker opened for 25006. A connection that got one is dropped by the adapter, so
      // the pool may heal before the follower's next round; idle ones it still holds to the
      // standby are recycled by that round ("reconnected").
      expect(seen.filter((event) => event !== "reconnected read-only")).toEqual([]);
      console.log(
        `endpoint re-pointed: writes resumed ${Math.round(resumedMs)} ms later (poll ${POLL_MS} ms); ${seen.join(", ")}`,
      );
    } finally {
      await proxy.close();
    }
  });

  it("a replica promoted beside a working primary takes no reads (strict by default) and is reported", async () => {
    const replica = cluster().replicas[0]!;
    const client = db({ replicas: { pollIntervalMs: POLL_MS } });
    const mismatches: unknown[] = [];
    client.$events.on("role:mismatch", (event) => mismatches.push(event));
    await client.user.count();
    await replica.query("SELECT pg_promote(true, 10)");
    await expect.poll(() => mismatches.length, { timeout: 10_000, interval: 20 }).toBe(1);
    expect(mismatches[0]).toMatchObject({ node: "replica-0", actual: "primary" });
    const emails = Array.from({ length: 5 }, () => uniqueEmail("split-brain"));
    for (const email of emails) await client.user.create({ data: { email } });
    const ports: number[] = [];
    const seen: number[] = [];
    for (let read = 0; read < 20; read++) {
      ports.push((await client.nodeInfo.findFirstOrThrow()).port);
      seen.push(await client.user.count({ where: { email: { in: emails } } }));
    }
    expect(new Set(ports)).toEqual(new Set([cluster().primary.port]));
    expect(seen.every((count) => count === emails.length)).toBe(true);
    console.log(
      `split brain: 20 reads after the promotion of replica-0: ${ports.filter((p) => p === cluster().primary.port).length} on the primary, ` +
        `${ports.filter((p) => p === replica.port).length} on the promoted replica; rows seen ${seen.join(",")} of ${emails.length}`,
    );
    // The promoted server becomes a standby again for the next test.
    await client.$disconnect();
    await cluster().rejoin(replica);
  });

  it("discovers the roles, then moves writes to the promoted standby without a restart", async () => {
    const [replica] = cluster().replicas;
    const url = clusterUrl(cluster().primaryUrl, cluster().replicaUrls[0]!, false);
    const client = db({ primaryUrl: url, replicaUrls: undefined, replicas: { pollIntervalMs: POLL_MS } });
    const changes: TopologyChangeEvent[] = [];
    client.$events.on("topology:change", (event) => changes.push(event));
    const state = splitStateOf(client)!;

    // The writer is listed second: the first write waits for the roles and lands on it.
    const before = await client.user.create({ data: { email: uniqueEmail("topology") } });
    expect(state.nodes[0]!.settings.identity).toContain(`:${cluster().primary.port}/`);
    expect(changes).toEqual([expect.objectContaining({ trigger: "start", action: "moved" })]);
    changes.length = 0;
    // The writer's replica node leaves read rotation at the monitor's next poll; reads: the standby.
    await expect
      .poll(async () => (await client.$health()).replicas.map((node) => [node.actualRole, node.inRotation]).sort(), {
        timeout: 10_000,
        interval: 50,
      })
      .toEqual([
        ["primary", false],
        ["replica", true],
      ]);
    const health = await client.$health();
    expect(health.primary.url).toContain(`:${cluster().primary.port}/`);
    for (let read = 0; read < 4; read++) expect((await client.nodeInfo.findFirstOrThrow()).port).toBe(replica!.port);

    // Failover: the primary crashes, the standby is promoted.
    await cluster().primary.kill();
    await replica!.query("SELECT pg_promote(true, 10)");
    const promotedAt = performance.now();
    let firstWriteMs: number | undefined;
    await expect
      .poll(
        async () => {
          try {
            await client.user.create({ data: { email: uniqueEmail("after") } });
            firstWriteMs ??= performance.now() - promotedAt;
            return true;
          } catch {
            return false;
          }
        },
        { timeout: 15_000, interval: 50 },
      )
      .toBe(true);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ node: "primary", action: "moved" });
    expect(changes[0]!.current).toContain(`:${replica!.port}/`);
    expect(state.nodes[0]!.settings.identity).toContain(`:${replica!.port}/`);
    // The rows written before the failover are there (they had been replicated).
    expect(await client.$primary().user.findUnique({ where: { id: before.id } })).not.toBeNull();
    console.log(`topology: first acknowledged write ${Math.round(firstWriteMs!)} ms after the promotion`, changes[0]);
  });
});

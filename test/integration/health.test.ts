import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { healthHandlers, type PoolOversubscribedEvent } from "../../src/index.ts";
import { useCluster } from "./harness.ts";

// The nodes are killed one after the other: the tests of this file run in order on one cluster.
describe("db.$health() on a real primary and replica", () => {
  const { cluster, db } = useCluster(1);
  /** The cluster's primary URL with a password the trust-auth server ignores, to see it redacted. */
  const withPassword = (url: string) => url.replace("postgres@", "postgres:s3cret-pw@");

  it("reports every node ok, with role check, latency, pool and a redacted URL", async () => {
    const client = db({
      primaryUrl: withPassword(cluster().primaryUrl),
      replicaUrls: cluster().replicaUrls.map(withPassword),
    });
    await client.user.count();
    const report = await client.$health();
    expect(report).toMatchObject({ status: "ok", ready: true, shuttingDown: false });
    expect(report.primary).toMatchObject({
      name: "primary",
      reachable: true,
      actualRole: "primary",
      roleCheck: "ok",
      breaker: "closed",
      url: withPassword(cluster().primaryUrl).replace("s3cret-pw", "***"),
    });
    expect(report.replicas).toHaveLength(1);
    expect(report.replicas[0]).toMatchObject({
      name: "replica-0",
      reachable: true,
      actualRole: "replica",
      roleCheck: "ok",
    });
    expect(report.primary.latencyMs).toBeGreaterThan(0);
    expect(report.primary.pool.max).toBeGreaterThan(0);
    expect(report.primary.pool.total).toBeGreaterThanOrEqual(1);
    expect(report.primary.connections).toMatchObject({ maxConnections: 100, instances: 1, fits: true });
    expect(JSON.stringify(report)).not.toContain("s3cret-pw");
    expect(await client.$ready()).toBe(true);
  });

  it("warns once, with an event and a process warning, when instances × connection_limit exceeds max_connections", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const client = db({
        primaryUrl: `${cluster().primaryUrl}?connection_limit=10`,
        replicaUrls: [],
        poolCheck: { instances: 12, reserved: 10 },
      });
      const events: PoolOversubscribedEvent[] = [];
      client.$events.on("pool:oversubscribed", (event) => events.push(event));
      const report = await client.$health();
      await client.$health();
      expect(report.primary.connections).toMatchObject({
        planned: 120,
        budget: 90,
        fits: false,
        recommendedConnectionLimit: 7,
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ nodes: ["primary"], planned: 120, budget: 90, maxConnections: 100 });
      await new Promise((resolve) => setImmediate(resolve));
      const ours = warnings.filter(
        (warning) => (warning as { code?: string }).code === "PRISMA_SPLIT_POOL_OVERSUBSCRIBED",
      );
      expect(ours).toHaveLength(1);
      expect(ours[0]?.message).toContain("connection_limit=7");
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("turns degraded when a replica is killed (still ready), then down and not ready when the primary is", async () => {
    const client = db({ health: { timeoutMs: 3_000 } });
    const health = healthHandlers(client, { detail: true });
    const server = createServer((req, res) => {
      if (!health.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await client.$health()).status).toBe("ok");

      await cluster().replicas[0]!.kill();
      const degraded = await client.$health();
      expect(degraded).toMatchObject({ status: "degraded", ready: true });
      expect(degraded.replicas[0]).toMatchObject({ reachable: false, roleCheck: "unknown" });
      expect(degraded.replicas[0]?.error).toBeTruthy();
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);

      await cluster().primary.kill();
      const down = await client.$health();
      expect(down).toMatchObject({ status: "down", ready: false });
      expect(down.primary.reachable).toBe(false);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: "down", ready: false });
      // Liveness never asks the database.
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: "ok" });
      expect(await client.$ready()).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

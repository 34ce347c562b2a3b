import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { healthHandlers, type PoolOversubscribedEvent } from "../../src/index.ts";
import { type TestDb, useCluster } from "./harness.ts";

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
      inRotation: true,
      outOfRotation: [],
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

  it("reports a node without a breaker (breaker: false) as off, not closed, and still ok", async () => {
    const report = await db({ breaker: false }).$health();
    expect([report.primary, ...report.replicas].map((node) => node.breaker)).toEqual(["off", "off"]);
    expect(report.status).toBe("ok");
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

  /** Serves `client`'s health endpoints (readiness with the whole report) on a free port until `close()`. */
  async function serveHealth(client: TestDb): Promise<{
    live: () => Promise<Response>;
    ready: () => Promise<Response>;
    close: () => Promise<void>;
  }> {
    const health = healthHandlers(client, { detail: true });
    const server = createServer((req, res) => {
      if (!health.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      live: () => fetch(`${base}/health`),
      ready: () => fetch(`${base}/health/ready`),
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }
  const status = async (response: Promise<Response>) => (await response).status;
  /** How long a killed or restarted node may take to show in the probes. */
  const DEADLINE = { timeout: 15_000, interval: 200 };
  /** A node restarted and two deadlines: more than the default 30 s on a busy machine. */
  const NODE_CHANGES = 60_000;

  it(
    "turns degraded when a replica is killed, still ready in both modes",
    async () => {
      const client = db({ health: { timeoutMs: 3_000 } });
      const strict = db({ health: { timeoutMs: 3_000, readiness: "primary" } });
      const endpoint = await serveHealth(client);
      try {
        expect((await client.$health()).status).toBe("ok");

        await cluster().replicas[0]!.kill();
        await expect.poll(async () => (await client.$health()).replicas[0]?.reachable, DEADLINE).toBe(false);
        const degraded = await client.$health();
        expect(degraded).toMatchObject({ status: "degraded", ready: true });
        expect(degraded.replicas[0]).toMatchObject({ reachable: false, roleCheck: "unknown", inRotation: false });
        expect(degraded.replicas[0]?.outOfRotation).toContain("unreachable");
        expect(degraded.replicas[0]?.error).toBeTruthy();
        expect(await status(endpoint.ready())).toBe(200);
        expect(await client.$ready()).toBe(true);
        expect(await strict.$ready()).toBe(true);
      } finally {
        await endpoint.close();
      }
      // Back up for the next test, which needs a replica while the primary is down.
      await cluster().replicas[0]!.start();
      await expect.poll(async () => (await client.$health()).replicas[0]?.reachable, DEADLINE).toBe(true);
    },
    NODE_CHANGES,
  );

  it(
    'stays ready on a replica while the primary is down (readiness "any"), not with readiness "primary"',
    async () => {
      const client = db({ health: { timeoutMs: 3_000 } });
      const strict = db({ health: { timeoutMs: 3_000, readiness: "primary" } });
      const endpoint = await serveHealth(client);
      const strictEndpoint = await serveHealth(strict);
      try {
        expect(await client.$ready()).toBe(true);
        expect(await strict.$ready()).toBe(true);

        await cluster().primary.kill();
        // Default: the replica answers, so the pod stays in the load balancer and serves reads and 503s.
        await expect.poll(async () => (await client.$health()).primary.reachable, DEADLINE).toBe(false);
        const down = await client.$health();
        expect(down).toMatchObject({ status: "down", ready: true });
        // A primary that is down takes no writes: out of rotation, and says why.
        expect(down.primary).toMatchObject({ inRotation: false });
        expect(down.primary.outOfRotation).toContain("unreachable");
        expect(down.replicas[0]).toMatchObject({ reachable: true, actualRole: "replica" });
        expect(await client.$ready()).toBe(true);
        const ready = await endpoint.ready();
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: "down", ready: true });
        // Strict: no primary, not ready.
        await expect.poll(() => strict.$ready(), DEADLINE).toBe(false);
        expect(await status(strictEndpoint.ready())).toBe(503);
        expect(await strict.$health()).toMatchObject({ status: "down", ready: false });

        await cluster().replicas[0]!.kill();
        // No node answers: not ready in either mode.
        await expect.poll(() => client.$ready(), DEADLINE).toBe(false);
        const none = await endpoint.ready();
        expect(none.status).toBe(503);
        expect(await none.json()).toMatchObject({ status: "down", ready: false });
        expect(await status(strictEndpoint.ready())).toBe(503);
        // Liveness never asks the database.
        expect(await (await endpoint.live()).json()).toEqual({ status: "ok" });
      } finally {
        await Promise.all([endpoint.close(), strictEndpoint.close()]);
      }
    },
    NODE_CHANGES,
  );
});

import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, describe, expect, it } from "vitest";
import { type DiagnosticsReport, healthHandlers } from "../../src/index.ts";
import { type TestDb, useCluster } from "./harness.ts";
import { holdLock } from "./held-lock.ts";

const TOKEN = "diagnostics-test-token-0123456789";

/** An Express app serving the diagnostics endpoint of `db`. */
function serve(db: TestDb): {
  get: (headers?: Record<string, string>) => Promise<Response>;
  close: () => Promise<void>;
} {
  const app = express();
  const health = healthHandlers(db, { diagnosticsToken: TOKEN });
  app.get("/health/diagnostics", health.diagnostics);
  const server = app.listen(0, "127.0.0.1");
  return {
    get: (headers = {}) =>
      fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health/diagnostics`, { headers }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// The replica is killed in the last test: the tests of this file run in order on one cluster.
describe("the diagnostics endpoint through Express, on a real primary and replica", () => {
  const { cluster, db } = useCluster(1);
  const withPassword = (url: string) => url.replace("postgres@", "postgres:s3cret-pw@");
  let client: TestDb;
  let app: ReturnType<typeof serve>;
  const authorized = { authorization: `Bearer ${TOKEN}` };
  const report = async (): Promise<DiagnosticsReport> => {
    const response = await app.get(authorized);
    expect(response.status).toBe(200);
    return (await response.json()) as DiagnosticsReport;
  };
  afterAll(() => app?.close());

  it("answers 401 with no detail without the token, and the report with it, URLs redacted", async () => {
    client = db({
      primaryUrl: `${withPassword(cluster().primaryUrl)}?connection_limit=2`,
      replicaUrls: cluster().replicaUrls.map(withPassword),
      health: { timeoutMs: 500 },
    });
    app = serve(client);
    await client.user.count();

    const refusedHeaders: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-of-some-length" },
      { authorization: TOKEN },
    ];
    for (const headers of refusedHeaders) {
      const refused = await app.get(headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await refused.json()).toEqual({ status: "unauthorized" });
    }

    const response = await app.get(authorized);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const text = await response.text();
    expect(text).not.toContain("s3cret-pw");
    const body = JSON.parse(text) as DiagnosticsReport;
    const [version] = await cluster().primary.query<{ server_version: string }>("SHOW server_version");
    expect(body).toMatchObject({ status: "ok", ready: true, advice: [] });
    expect(body.nodes.map((node) => [node.name, node.role, node.state])).toEqual([
      ["primary", "primary", "in-rotation"],
      ["replica-0", "replica", "in-rotation"],
    ]);
    const [primary, replica] = body.nodes;
    expect(primary?.url).toContain("postgres:***@");
    expect(primary?.serverVersion).toBe(version?.server_version);
    expect(replica?.serverVersion).toBe(version?.server_version);
    expect(primary?.pool).toMatchObject({ max: 2, waiting: 0, busyForMs: 0 });
    expect(primary?.server?.role).toMatchObject({ name: "postgres", waitingOnLock: 0 });
    expect(primary?.server?.maxConnections).toBeGreaterThan(0);
    expect(primary?.latencyMs).toBeGreaterThan(0);
  });

  it("says why queries wait: the pool full, its callers waiting, the server's sessions on a lock", async () => {
    const lock = await holdLock([cluster().primary]);
    // connection_limit=2: two statements wait on the lock on the server, the third for a connection.
    // Prisma's promises start when awaited: then() sends them now.
    const stuck = [0, 1, 2].map(() =>
      client
        .$primary()
        .$queryRawUnsafe(`SELECT 1 AS x FROM ${lock.waitSql}`)
        .then((rows) => rows),
    );
    try {
      await expect.poll(() => lock.waiting(cluster().primary), { timeout: 20_000 }).toBe(2);
      const seen = await report();
      const primary = seen.nodes[0];
      expect(primary?.pool).toMatchObject({ max: 2, size: 2, inUse: 2, idle: 0, waiting: 1 });
      expect(primary?.server?.role.waitingOnLock).toBeGreaterThanOrEqual(2);
      expect(primary?.server?.role.longestTransactionMs).toBeGreaterThan(0);
      expect(seen.advice.map((entry) => [entry.code, entry.node])).toEqual([["pool-waiting", "primary"]]);
      expect(seen.advice[0]?.message).toContain(
        "1 query waits for a connection on primary (2 of connection_limit=2 in use",
      );
    } finally {
      await lock.release();
    }
    await Promise.all(stuck);
    expect((await report()).advice).toEqual([]);
  });

  it("advises on a replica that does not answer, and still reports the primary", async () => {
    await cluster().replicas[0]?.kill();
    await expect
      .poll(async () => (await report()).advice.map((entry) => [entry.code, entry.node]), { timeout: 20_000 })
      .toContainEqual(["node-down", "replica-0"]);
    const seen = await report();
    expect(seen.nodes[1]).toMatchObject({ reachable: false, state: "out-of-rotation" });
    expect(seen.nodes[1]?.serverVersion).toBeUndefined();
    expect(seen.nodes[1]?.serverError).toBeTruthy();
    expect(seen.nodes[0]?.server?.serverVersion).toBeTruthy();
  });
});

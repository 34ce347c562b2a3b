import net from "node:net";
import { describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { withTimeBounds } from "../../src/config/time-bounds.ts";
import { createPool } from "../../src/pool/create-pool.ts";
import { loadDriver } from "../../src/pool/driver.ts";
import { destroySocket, newCancelConnection, unrefSocket } from "../../src/pool/pg-internals.ts";
import { useCluster } from "./harness.ts";

// What prisma-split relies on in pg beyond its documented API (src/pool/pg-internals.ts, and
// pg-pool dropping a client ended in its 'release' listener: src/pool/connection-reuse.ts). If a
// pg upgrade changes one of them, this file fails, not production.

describe("pg's internals prisma-split relies on", () => {
  const { cluster } = useCluster(0);

  it("a connected client's socket is client.connection.stream: destroying it ends the client at once", async () => {
    const { pg } = loadDriver();
    const client = new pg.Client({ connectionString: cluster().primaryUrl });
    await client.connect();
    const stream = (client as unknown as { connection: { stream: unknown } }).connection.stream;
    expect(stream).toBeInstanceOf(net.Socket);
    unrefSocket(client);
    const ended = new Promise((resolve) => client.once("end", resolve));
    client.on("error", () => {});
    destroySocket(client);
    await ended;
    await expect(client.query("SELECT 1")).rejects.toThrow();
  });

  it("a client knows its backend's pid and key, and pg.Connection cancels its statement", async () => {
    const { pg } = loadDriver();
    const client = new pg.Client({ connectionString: cluster().primaryUrl });
    await client.connect();
    try {
      const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
      expect(typeof processID).toBe("number");
      expect(typeof secretKey).toBe("number");
      const sleeping = client.query("SELECT pg_sleep(600)").then(
        () => "finished",
        (error: Error & { code?: string }) => error.code,
      );
      const connection = newCancelConnection();
      const url = new URL(cluster().primaryUrl);
      await new Promise<void>((resolve, reject) => {
        connection.on("connect", () => connection.cancel(processID, secretKey));
        connection.on("end", () => resolve());
        connection.on("error", reject);
        connection.connect(Number(url.port), url.hostname);
      });
      expect(await sleeping).toBe("57014");
    } finally {
      await client.end();
    }
  });

  it("pg-pool drops a client that its 'release' listener ended, instead of keeping it idle", async () => {
    const settings = withTimeBounds(parseConnectionUrl(cluster().primaryUrl, "primaryUrl"), false, false);
    const pool = createPool(settings, "pg-internals", () => {});
    try {
      pool.on("release", (_error, client) => {
        client.end().catch(() => {});
      });
      const client = await pool.connect();
      client.release();
      expect(pool.totalCount).toBe(0);
      expect(pool.idleCount).toBe(0);
    } finally {
      await pool.end();
    }
  });
});

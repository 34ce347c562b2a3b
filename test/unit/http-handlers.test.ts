import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import {
  DatabaseUnavailableError,
  databaseUnavailableErrorHandler,
  databaseUnavailableMiddleware,
  sendDatabaseUnavailable,
} from "../../src/index.ts";

const unavailable = () =>
  new DatabaseUnavailableError("prisma-split: primary is down (postgresql://app:***@db)", {
    role: "primary",
    reason: "breaker-open",
    outcome: "not-applied",
    retryAfterSeconds: 4.2,
    cause: new Error("connect ECONNREFUSED 10.0.0.5:5432"),
  });
const other = () => Object.assign(new Error("not ours"), { status: 418 });

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: http.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function expect503(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toBe("5");
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await response.json();
  expect(body).toEqual({
    error: "DATABASE_UNAVAILABLE",
    reason: "breaker-open",
    outcome: "not-applied",
    retryAfterSeconds: 5,
  });
  expect(JSON.stringify(body)).not.toMatch(/10\.0\.0\.5|postgresql/);
}

describe("HTTP handlers answer DatabaseUnavailableError with 503 + Retry-After and pass other errors on", () => {
  it("Express error middleware", async () => {
    const app = express();
    app.get("/down", async () => {
      throw unavailable();
    });
    app.get("/other", async () => {
      throw other();
    });
    app.use(databaseUnavailableMiddleware());
    const seen: unknown[] = [];
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen.push(error);
      res.status(500).send("next handler");
    });
    const base = await listen(http.createServer(app));
    await expect503(await fetch(`${base}/down`));
    const passed = await fetch(`${base}/other`);
    expect([passed.status, await passed.text()]).toEqual([500, "next handler"]);
    expect((seen[0] as Error).message).toBe("not ours");
  });

  it("Fastify error handler", async () => {
    const app = Fastify();
    app.get("/down", async () => {
      throw unavailable();
    });
    app.get("/other", async () => {
      throw other();
    });
    app.setErrorHandler(databaseUnavailableErrorHandler());
    await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      await expect503(await fetch(`${base}/down`));
      // Rethrown untouched: Fastify's default handler answers with the error's own status.
      const passed = await fetch(`${base}/other`);
      expect(passed.status).toBe(418);
      expect(((await passed.json()) as { message: string }).message).toBe("not ours");
    } finally {
      await app.close();
    }
  });

  it("plain node:http helper", async () => {
    const base = await listen(
      http.createServer((req, res) => {
        const error = req.url === "/down" ? unavailable() : other();
        if (!sendDatabaseUnavailable(res, error)) {
          res.statusCode = 500;
          res.end("mine to handle");
        }
      }),
    );
    await expect503(await fetch(`${base}/down`));
    const passed = await fetch(`${base}/other`);
    expect([passed.status, await passed.text()]).toEqual([500, "mine to handle"]);
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { type HealthSource, healthHandlers } from "../../src/http/health.ts";
import type { HealthReport } from "../../src/lifecycle/health.ts";

/** A stand-in for db: what the handlers are given is its answers, not a database. */
function source(ready: boolean): HealthSource & { healthCalls: number; readyCalls: number } {
  const state = { healthCalls: 0, readyCalls: 0 };
  return Object.assign(state, {
    async $health() {
      state.healthCalls++;
      return { status: ready ? "ok" : "down", ready, shuttingDown: !ready } as unknown as HealthReport;
    },
    async $ready() {
      state.readyCalls++;
      return ready;
    },
  });
}

const servers: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function get(url: string): Promise<{ status: number; body: unknown; cache: string | null; type: string | null }> {
  const response = await fetch(url);
  return {
    status: response.status,
    body: await response.json(),
    cache: response.headers.get("cache-control"),
    type: response.headers.get("content-type"),
  };
}

describe("health handlers", () => {
  it.each([true, false])("Express: /health 200 without asking the database, /health/ready %s", async (ready) => {
    const db = source(ready);
    const health = healthHandlers(db);
    const app = express();
    app.get("/health", health.live);
    app.get("/health/ready", health.ready);
    const base = await listen(createServer(app));
    expect(await get(`${base}/health`)).toMatchObject({ status: 200, body: { status: "ok" }, cache: "no-store" });
    expect(db.healthCalls + db.readyCalls).toBe(0);
    expect(await get(`${base}/health/ready`)).toMatchObject({
      status: ready ? 200 : 503,
      body: { status: ready ? "ready" : "not-ready" },
      type: "application/json; charset=utf-8",
    });
    expect(db.readyCalls).toBe(1);
  });

  it.each([true, false])("Fastify: same answers through reply (ready = %s)", async (ready) => {
    const db = source(ready);
    const health = healthHandlers(db, { detail: true });
    const app = Fastify();
    app.get("/health", health.live);
    app.get("/health/ready", health.ready);
    await app.listen({ port: 0, host: "127.0.0.1" });
    servers.push(app);
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    expect(await get(`${base}/health`)).toMatchObject({ status: 200, body: { status: "ok" }, cache: "no-store" });
    expect(await get(`${base}/health/ready`)).toMatchObject({
      status: ready ? 200 : 503,
      body: { ready, status: ready ? "ok" : "down" },
    });
    expect(db.healthCalls).toBe(1);
  });

  it("Node http: handle() answers its two paths (custom ones too) and leaves the rest to the app", async () => {
    const health = healthHandlers(source(false), { livePath: "/livez", readyPath: "/readyz" });
    const base = await listen(
      createServer((req, res) => {
        if (!health.handle(req, res)) res.writeHead(404, { "content-type": "application/json" }).end('{"app":true}');
      }),
    );
    expect(await get(`${base}/livez?probe=1`)).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await get(`${base}/readyz`)).toMatchObject({ status: 503, body: { status: "not-ready" } });
    expect(await get(`${base}/health`)).toMatchObject({ status: 404, body: { app: true } });
  });

  it("answers 503 when the check itself throws", async () => {
    const health = healthHandlers({
      $health: () => Promise.reject(new Error("boom")),
      $ready: () => Promise.reject(new Error("boom")),
    });
    const base = await listen(createServer((req, res) => void health.ready(req, res)));
    expect(await get(base)).toMatchObject({ status: 503, body: { status: "not-ready" } });
  });
});

import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsistencyHttpOptions, expressConsistency, fastifyConsistency } from "../../src/index.ts";
import { type TestDb, uniqueEmail, useCluster } from "./harness.ts";

const HEADER = "x-consistency-token";

/** One app, whatever the framework: send a request, get status, JSON body and headers back. */
type Send = (
  method: "GET" | "POST",
  path: string,
  options?: { body?: unknown; headers?: Record<string, string> },
) => Promise<{ status: number; body: any; headers: Record<string, string | string[] | undefined> }>;

function expressApp(db: TestDb, options?: ConsistencyHttpOptions): { send: Send; close: () => Promise<void> } {
  const app = express();
  app.use(express.json());
  app.use(expressConsistency(db, options));
  app.post("/users", async (req, res) => {
    res.json(await db.user.create({ data: { email: req.body.email } }));
  });
  app.post("/users/write-then-read", async (req, res) => {
    await db.user.create({ data: { email: req.body.email } });
    res.json({ found: (await db.user.findUnique({ where: { email: req.body.email } })) !== null });
  });
  app.get("/users/:email", async (req, res) => {
    res.json({ user: await db.user.findUnique({ where: { email: req.params.email } }) });
  });
  const server = app.listen(0, "127.0.0.1");
  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    async send(method, path, { body, headers = {} } = {}) {
      const response = await fetch(`${url()}${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const all: Record<string, string | string[]> = Object.fromEntries(response.headers);
      all["set-cookie"] = response.headers.getSetCookie();
      return { status: response.status, body: await response.json(), headers: all };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function fastifyApp(db: TestDb, options?: ConsistencyHttpOptions): { send: Send; close: () => Promise<void> } {
  const app = Fastify();
  app.register(fastifyConsistency(db, options));
  app.register(async (routes) => {
    // An encapsulated child context: the plugin's hooks must reach it too.
    routes.post<{ Body: { email: string } }>("/users", (req) => db.user.create({ data: { email: req.body.email } }));
    routes.post<{ Body: { email: string } }>("/users/write-then-read", async (req) => {
      await db.user.create({ data: { email: req.body.email } });
      return { found: (await db.user.findUnique({ where: { email: req.body.email } })) !== null };
    });
    routes.get<{ Params: { email: string } }>("/users/:email", async (req) => ({
      user: await db.user.findUnique({ where: { email: req.params.email } }),
    }));
  });
  return {
    async send(method, url, { body, headers = {} } = {}) {
      const response = await app.inject({
        method,
        url,
        headers,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return {
        status: response.statusCode,
        body: response.json(),
        headers: response.headers as Record<string, string>,
      };
    },
    close: () => app.close(),
  };
}

describe.each([
  ["Express", expressApp],
  ["Fastify", fastifyApp],
])("%s middleware: one consistency context per request, carried by a header or cookie", (_name, makeApp) => {
  const { cluster, db } = useCluster(1);
  let client: TestDb;
  let app: ReturnType<typeof makeApp>;
  let cookieApp: ReturnType<typeof makeApp>;
  const replica = () => cluster().replicas[0]!;

  beforeAll(async () => {
    client = db({ replicas: { pollIntervalMs: 100, maxLagMs: false } });
    await client.$connect();
    app = makeApp(client);
    cookieApp = makeApp(client, { header: false, cookie: { name: "rsw", maxAgeSeconds: 30 } });
    await cluster().waitForReplicas();
    await cluster().pauseReplay(replica());
  });
  afterAll(async () => {
    await Promise.all([app?.close(), cookieApp?.close()]);
    await cluster().resumeReplay(replica());
  });

  it("a write then a read in one request sees the write", async () => {
    const response = await app.send("POST", "/users/write-then-read", { body: { email: uniqueEmail("mw") } });
    expect(response).toMatchObject({ status: 200, body: { found: true } });
    expect(response.headers[HEADER]).toMatch(/^v2\./);
  });

  it("the next request sees it only with the token the response carried (header)", async () => {
    const email = uniqueEmail("mw-header");
    const created = await app.send("POST", "/users", { body: { email } });
    const token = created.headers[HEADER] as string;
    expect(token).toMatch(/^v2\./);
    const without = await app.send("GET", `/users/${email}`);
    expect(without.body.user).toBeNull(); // the paused replica answered: the control
    // A request that only read carries where it read (monotonic reads), no write.
    expect(without.headers[HEADER]).toMatch(/^v2\.p[0-9a-z]+\.[fa][0-9a-z]+$/);
    const withToken = await app.send("GET", `/users/${email}`, { headers: { [HEADER]: token } });
    expect(withToken.body.user?.email).toBe(email);
    expect(withToken.headers[HEADER]).toMatch(/^v2\./);
  });

  it("a cookie carries it too", async () => {
    const email = uniqueEmail("mw-cookie");
    const created = await cookieApp.send("POST", "/users", { body: { email } });
    const setCookie = ([] as string[]).concat(created.headers["set-cookie"] ?? []);
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^rsw=v2(\.[a-z][0-9a-z]+)+; Path=\/; Max-Age=30; HttpOnly; SameSite=Lax$/);
    expect(created.headers[HEADER]).toBeUndefined();
    const cookie = setCookie[0]!.split(";")[0]!;
    const read = await cookieApp.send("GET", `/users/${email}`, { headers: { cookie: `theme=dark; ${cookie}` } });
    expect(read.body.user?.email).toBe(email);
  });

  it.each([
    ["garbled", "v1.%%%"],
    ["with an empty position", "v1.mgj6k3gb."],
  ])("a %s token is refused: a fresh context, not a failed request, and the event says so", async (_case, bad) => {
    const refused: Array<{ source: string; reason: string }> = [];
    const listener = (event: { source: string; reason: string }) => refused.push(event);
    client.$events.on("consistency:token-refused", listener);
    try {
      // A row the paused replica has not replayed: a fresh context reads it there and misses it.
      const email = uniqueEmail("mw-refused");
      await client.user.create({ data: { email } });
      const response = await app.send("GET", `/users/${email}`, { headers: { [HEADER]: bad } });
      expect(response).toMatchObject({ status: 200, body: { user: null } });
      expect(refused).toEqual([{ source: "header", reason: expect.stringMatching(/malformed v1 consistency token/) }]);
    } finally {
      client.$events.off("consistency:token-refused", listener);
    }
  });
});

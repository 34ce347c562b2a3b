import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../examples/express/app.ts";
import { buildApp } from "../../examples/fastify/app.ts";
import { type TestDb, uniqueEmail, useCluster } from "./harness.ts";

// The example apps (examples/express, examples/fastify) on a real primary + replica, driven over
// HTTP; then each runnable server.ts in its own process, stopped by SIGTERM.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN = "x-consistency-token";
const SERVED_BY = "x-served-by";

interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(
  app: RunningApp,
  method: "GET" | "POST",
  route: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${app.url}${route}`, {
    method,
    headers: { ...options.headers, ...(options.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const isJson = response.headers.get("content-type")?.includes("json") ?? false;
  return { status: response.status, body: isJson ? JSON.parse(text) : text, headers: response.headers };
}

async function startExpress(db: TestDb): Promise<RunningApp> {
  const server = createApp(db).listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function startFastify(db: TestDb): Promise<RunningApp> {
  const app = await buildApp(db);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}

describe.each([
  ["Express", startExpress, "examples/express/server.ts"],
  ["Fastify", startFastify, "examples/fastify/server.ts"],
])("the %s example on a real primary and replica", (_name, start, serverScript) => {
  const { cluster, db } = useCluster(1);
  let client: TestDb;
  let app: RunningApp;
  let seededId: number;
  const replica = () => cluster().replicas[0]!;

  beforeAll(async () => {
    // The monitor polls fast so a token's read can also go back to a caught-up replica soon.
    client = db({ replicas: { pollIntervalMs: 100 } });
    app = await start(client);
    const seeded = await call(app, "POST", "/users", { body: { email: uniqueEmail("seed"), name: "Seed" } });
    seededId = seeded.body.id;
    await cluster().waitForReplicas();
  });
  afterAll(async () => {
    await app?.close();
  });

  it("creates a user and reads it back with the token the write answered with", async () => {
    const email = uniqueEmail("create");
    const created = await call(app, "POST", "/users", { body: { email, name: "Ada" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, name: "Ada" });
    expect(created.headers.get(SERVED_BY)).toBe("primary");
    const token = created.headers.get(TOKEN);
    expect(token).toMatch(/^v2\./);

    const read = await call(app, "GET", `/users/${created.body.id}`, { headers: { [TOKEN]: token! } });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it("with the replica's replay paused, the token's read still sees the write; without it, the replica answers 404", async () => {
    await cluster().pauseReplay(replica());
    try {
      const created = await call(app, "POST", "/users", { body: { email: uniqueEmail("paused") } });
      expect(created.status).toBe(201);
      const token = created.headers.get(TOKEN)!;

      const withToken = await call(app, "GET", `/users/${created.body.id}`, { headers: { [TOKEN]: token } });
      expect(withToken.status).toBe(200);
      expect(withToken.body.email).toBe(created.body.email);
      expect(withToken.headers.get(SERVED_BY)).toBe("primary");

      // The control: the same read without the token goes to the paused replica, which has no such row.
      const without = await call(app, "GET", `/users/${created.body.id}`);
      expect(without.status).toBe(404);
      expect(without.headers.get(SERVED_BY)).toBe("replica-0");
    } finally {
      await cluster().resumeReplay(replica());
    }
  });

  it("x-served-by names each request's own nodes, with many requests at once", async () => {
    const writes = Array.from({ length: 12 }, () =>
      call(app, "POST", "/users", { body: { email: uniqueEmail("concurrent") } }),
    );
    const reads = Array.from({ length: 12 }, () => call(app, "GET", `/users/${seededId}`));
    const [written, read] = await Promise.all([Promise.all(writes), Promise.all(reads)]);
    expect(written.map((answer) => [answer.status, answer.headers.get(SERVED_BY)])).toEqual(
      written.map(() => [201, "primary"]),
    );
    expect(read.map((answer) => [answer.status, answer.headers.get(SERVED_BY)])).toEqual(
      read.map(() => [200, "replica-0"]),
    );
  });

  it("posts: create, list, 404 for a missing user, 409 for a taken e-mail, 400 for a bad id", async () => {
    const post = await call(app, "POST", `/users/${seededId}/posts`, { body: { title: "Hello", body: "First" } });
    expect(post.status).toBe(201);
    expect(post.body).toMatchObject({ title: "Hello", body: "First", authorId: seededId });
    const token = post.headers.get(TOKEN)!;

    const posts = await call(app, "GET", `/users/${seededId}/posts`, { headers: { [TOKEN]: token } });
    expect(posts.status).toBe(200);
    expect(posts.body).toContainEqual(post.body);

    expect((await call(app, "POST", "/users/2147483647/posts", { body: { title: "x" } })).status).toBe(404);
    expect((await call(app, "GET", "/users/2147483647/posts")).status).toBe(404);
    expect((await call(app, "GET", "/users/2147483647")).status).toBe(404);
    expect((await call(app, "GET", "/users/abc")).status).toBe(400);
    const list = await call(app, "GET", "/users?limit=2");
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(2);

    const email = uniqueEmail("taken");
    expect((await call(app, "POST", "/users", { body: { email } })).status).toBe(201);
    const taken = await call(app, "POST", "/users", { body: { email } });
    expect(taken).toMatchObject({ status: 409, body: { error: "CONFLICT" } });
  });

  it("/health, /health/ready and /metrics", async () => {
    expect(await call(app, "GET", "/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await call(app, "GET", "/health/ready")).toMatchObject({ status: 200, body: { status: "ready" } });
    const metrics = await call(app, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(
      /^prisma_split_queries_routed_total\{role="primary",node="primary",reason="write"\} \d+/m,
    );
    expect(metrics.body).toMatch(
      /^prisma_split_queries_routed_total\{role="replica",node="replica-0",reason="read"\} \d+/m,
    );
  });

  it("once shutdown begins: readiness answers 503 and a write 503 shutting-down", async () => {
    const closing = db();
    const other = await start(closing);
    try {
      expect((await call(other, "GET", "/health/ready")).status).toBe(200);
      const shutdown = closing.$shutdown();
      const ready = await call(other, "GET", "/health/ready");
      expect(ready).toMatchObject({ status: 503, body: { status: "not-ready" } });
      const write = await call(other, "POST", "/users", { body: { email: uniqueEmail("late") } });
      expect(write).toMatchObject({ status: 503, body: { error: "DATABASE_UNAVAILABLE", reason: "shutting-down" } });
      await shutdown;
    } finally {
      await other.close();
    }
  });

  it("the primary stopped: a write answers 503 with Retry-After and JSON, reads go on, the app stays ready", async () => {
    await cluster().primary.stop("immediate");
    try {
      const write = await call(app, "POST", "/users", { body: { email: uniqueEmail("down") } });
      expect(write.status).toBe(503);
      expect(Number(write.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(write.headers.get("content-type")).toMatch(/^application\/json/);
      expect(write.body).toEqual({
        error: "DATABASE_UNAVAILABLE",
        reason: expect.stringMatching(/^(unreachable|retries-exhausted|breaker-open)$/),
        // A connection the server dropped as it stopped fails the write with "terminated": whether
        // it ran cannot be told from that (unknown), unless the write was refused outright.
        outcome: expect.stringMatching(/^(unknown|not-applied)$/),
        retryAfterSeconds: Number(write.headers.get("retry-after")),
      });

      const read = await call(app, "GET", `/users/${seededId}`);
      expect(read.status).toBe(200);
      expect(read.headers.get(SERVED_BY)).toBe("replica-0");
      expect((await call(app, "GET", "/health")).status).toBe(200);
      // The replica answers: the pod stays in the load balancer, to serve reads and these 503s.
      expect((await call(app, "GET", "/health/ready")).status).toBe(200);
    } finally {
      await cluster().primary.start();
    }
  });

  it(`${serverScript}: serves, then on SIGTERM closes the server, drains, disconnects and ends by SIGTERM`, async () => {
    const server = new ServerProcess(serverScript, {
      DATABASE_URL: cluster().primaryUrl,
      DATABASE_REPLICA_URLS: cluster().replicaUrls.join(","),
      PORT: "0",
    });
    try {
      const [, url] = await server.waitFor(/listening on (http:\/\/\S+)/);
      const running = { url: url!, close: async () => {} };
      expect((await call(running, "POST", "/users", { body: { email: uniqueEmail("server") } })).status).toBe(201);
      expect((await call(running, "GET", "/health/ready")).status).toBe(200);

      server.process.kill("SIGTERM");
      const [code, signal] = await once(server.process, "exit");
      expect({ code, signal }, server.output).toEqual({ code: null, signal: "SIGTERM" });
      const lines = server.output.split("\n");
      const readinessOff = lines.findIndex((line) => line.includes("SIGTERM: readiness off; no new connections"));
      const disconnected = lines.findIndex((line) => line.includes("database: every in-flight query finished"));
      expect(readinessOff, server.output).toBeGreaterThanOrEqual(0);
      expect(disconnected, server.output).toBeGreaterThan(readinessOff);
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    } finally {
      server.stop();
    }
  });
});

/** A server.ts in its own Node process, its stdout and stderr collected. */
class ServerProcess {
  readonly process: ChildProcess;
  output = "";

  constructor(script: string, env: Record<string, string>) {
    this.process = spawn(process.execPath, ["--import", "tsx", path.join(root, script)], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (chunk: string) => {
      this.output += chunk;
    };
    this.process.stdout?.setEncoding("utf8").on("data", collect);
    this.process.stderr?.setEncoding("utf8").on("data", collect);
  }

  /** Waits until the output matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.output.match(pattern);
      if (match !== null) return match;
      if (this.process.exitCode !== null || this.process.signalCode !== null || Date.now() > deadline) {
        throw new Error(`no ${pattern} in the output of ${this.process.spawnargs.join(" ")}:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  stop(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill("SIGKILL");
  }
}

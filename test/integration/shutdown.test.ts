import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { healthHandlers } from "../../src/index.ts";
import { splitStateOf } from "../../src/split-state.ts";
import type { PgNode } from "../cluster/index.ts";
import { ChildApp } from "./child-app.ts";
import { useCluster } from "./harness.ts";
import { type HeldLock, holdLock } from "./held-lock.ts";

/** Backends our pools opened (application_name prisma-split/<node>), on one server. */
async function ourBackends(node: PgNode): Promise<Array<{ application_name: string; state: string; query: string }>> {
  return node.query(
    "SELECT application_name, state, query FROM pg_stat_activity WHERE application_name LIKE 'prisma-split/%'",
  );
}

/** Waits until `count` pg_sleep queries of ours are running, over all nodes. */
async function waitForSleepers(nodes: PgNode[], count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = (await Promise.all(nodes.map(ourBackends))).flat();
    const sleeping = rows.filter((row) => row.state === "active" && row.query.includes("pg_sleep"));
    if (sleeping.length >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${sleeping.length} of ${count} slow queries reached the servers`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Backends close asynchronously after the client's Terminate: wait (bounded) until none of ours is left. */
async function waitForNoBackends(nodes: PgNode[]): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = (await Promise.all(nodes.map(ourBackends))).flat().length;
    if (left === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("graceful shutdown in a child process, on a real primary and replica", () => {
  const { cluster, db } = useCluster(1);
  const nodes = () => cluster().nodes;
  const children: ChildApp[] = [];
  const locks: HeldLock[] = [];
  /** A lock held on every node: slow statements that wait on it end when the test releases it. */
  const lockEverywhere = async () => {
    const lock = await holdLock(nodes());
    locks.push(lock);
    return lock;
  };
  /** Waits until `count` statements wait on `lock`, over all nodes. */
  const waitForWaiters = (lock: HeldLock, count: number) =>
    expect
      .poll(async () => (await Promise.all(nodes().map((node) => lock.waiting(node)))).reduce((a, b) => a + b), {
        timeout: 20_000,
      })
      .toBe(count);
  const start = (env: Record<string, string>, runner: "node" | "tsx" = "node") => {
    const child = new ChildApp(
      "test/fixtures/shutdown-app.ts",
      { PRIMARY_URL: cluster().primaryUrl, REPLICA_URLS: cluster().replicaUrls.join(","), ...env },
      runner,
    );
    children.push(child);
    return child;
  };
  afterEach(async () => {
    for (const lock of locks.splice(0)) await lock.release();
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.kill("SIGKILL");
      await child.exited;
    }
  });

  it("SIGTERM: in-flight queries finish, new ones get 503 shutting-down, the process ends by SIGTERM, no backend left", async () => {
    const lock = await lockEverywhere();
    const child = start({ SLOW_QUERIES: "4", SLOW_LOCK: lock.waitSql });
    await child.waitFor("started");
    await waitForWaiters(lock, 4);
    child.kill("SIGTERM");
    // The slow queries are still in flight when the shutdown begins: they end when the lock goes.
    await child.waitFor("shutdown:start");
    await lock.release();
    const exit = await child.exited;

    expect(exit, child.stderr).toEqual({ code: null, signal: "SIGTERM" });
    expect(
      child.events("slow-done").map((line) => line.i),
      JSON.stringify(child.lines),
    ).toEqual(expect.arrayContaining([0, 1, 2, 3]));
    expect(child.events("slow-failed")).toEqual([]);
    expect(child.events("late-query")).toEqual([
      { event: "late-query", ok: false, unavailable: true, status: 503, reason: "shutting-down" },
    ]);
    expect(child.events("ready")).toEqual([{ event: "ready", ready: false }]);
    expect(child.events("shutdown:start")).toEqual([{ event: "shutdown:start", trigger: "SIGTERM" }]);
    expect(child.events("shutdown:done")).toEqual([
      { event: "shutdown:done", trigger: "SIGTERM", drained: true, cancelled: 0 },
    ]);
    // Every slow query was in flight when the shutdown began, and reported done before it was.
    const order = child.lines.map((line) => line.event);
    expect(order.indexOf("shutdown:start")).toBeLessThan(order.indexOf("slow-done"));
    expect(order.lastIndexOf("slow-done")).toBeLessThan(order.indexOf("shutdown:done"));
    expect(await waitForNoBackends(nodes())).toBe(0);
  });

  it("a hung query is bounded by timeoutMs: cancelled on the server, then the process ends by SIGTERM", async () => {
    // pg_sleep(600) would outlive the test's own timeout: only the cancel can end it in time.
    const child = start({ SLOW_QUERIES: "2", SLOW_SECONDS: "600", SHUTDOWN_TIMEOUT_MS: "500" });
    await child.waitFor("started");
    await waitForSleepers(nodes(), 2);
    child.kill("SIGTERM");
    const exit = await child.exited;

    expect(exit, child.stderr).toEqual({ code: null, signal: "SIGTERM" });
    expect(child.events("shutdown:done")).toEqual([
      { event: "shutdown:done", trigger: "SIGTERM", drained: false, cancelled: 2 },
    ]);
    const failures = child.events("slow-failed");
    expect(failures).toHaveLength(2);
    for (const failure of failures) expect(String(failure.message)).toMatch(/cancel/i);
    expect(await waitForNoBackends(nodes())).toBe(0);
  });

  it("two signals, and a $disconnect() on top, do the work once; SIGINT ends the process by SIGINT", async () => {
    const lock = await lockEverywhere();
    const child = start({ SLOW_QUERIES: "2", SLOW_LOCK: lock.waitSql, MODE: "disconnect-too" });
    await child.waitFor("started");
    await waitForWaiters(lock, 2);
    child.kill("SIGINT");
    await child.waitFor("shutdown:start");
    // The second signal is delivered now, while the drain still waits on the lock.
    child.kill("SIGINT");
    await lock.release();
    const exit = await child.exited;

    expect(exit, child.stderr).toEqual({ code: null, signal: "SIGINT" });
    expect(child.events("shutdown:start")).toHaveLength(1);
    expect(child.events("shutdown:done")).toEqual([
      { event: "shutdown:done", trigger: "SIGINT", drained: true, cancelled: 0 },
    ]);
    expect(child.events("disconnect-resolved")).toHaveLength(1);
    expect(child.events("slow-done")).toHaveLength(2);
    expect(await waitForNoBackends(nodes())).toBe(0);
  });

  it("under the tsx command (its own hidden SIGTERM listener in the app's process): the signal raised again still ends it, with status 143", async () => {
    const lock = await lockEverywhere();
    const child = start({ SLOW_QUERIES: "2", SLOW_LOCK: lock.waitSql }, "tsx");
    const [started] = await child.waitFor("started");
    await waitForWaiters(lock, 2);
    // To the app's own process, as a terminal's Ctrl-C does (the tsx parent relays a signal sent
    // to it, and kills the app if it has not acknowledged within 30 ms: not ours to test).
    process.kill(Number(started?.pid), "SIGTERM");
    await child.waitFor("shutdown:start");
    await lock.release();
    const exit = await child.exited;

    // tsx's parent reports its child's end as an exit code.
    expect(exit, child.stderr).toEqual({ code: 143, signal: null });
    expect(child.events("slow-done")).toHaveLength(2);
    expect(child.events("shutdown:done")).toEqual([
      { event: "shutdown:done", trigger: "SIGTERM", drained: true, cancelled: 0 },
    ]);
  });

  it("leaves the signal to the app when the app listens too: no re-raise, the process ends by itself (code 0)", async () => {
    const lock = await lockEverywhere();
    const child = start({ SLOW_QUERIES: "2", SLOW_LOCK: lock.waitSql, MODE: "own-listener" });
    await child.waitFor("started");
    await waitForWaiters(lock, 2);
    child.kill("SIGTERM");
    await child.waitFor("shutdown:start");
    await lock.release();
    const exit = await child.exited;

    // Had prisma-split called process.exit or re-raised the signal, this would differ.
    expect(exit, child.stderr).toEqual({ code: 0, signal: null });
    expect(child.events("app-handler")).toHaveLength(1);
    expect(child.events("shutdown:done")).toHaveLength(1);
    expect(child.events("slow-done")).toHaveLength(2);
  });

  it("shutdown: false installs no signal listener; the default installs one, keeps it through $disconnect() (the client lives on) and removes it on $shutdown()", async () => {
    const before = process.listenerCount("SIGTERM");
    const beforeInt = process.listenerCount("SIGINT");
    const quiet = db({ shutdown: false });
    expect(process.listenerCount("SIGTERM")).toBe(before);
    expect(process.listenerCount("SIGINT")).toBe(beforeInt);
    await quiet.$disconnect();

    const listening = db();
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    expect(process.listenerCount("SIGINT")).toBe(beforeInt + 1);
    await listening.$disconnect();
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    await listening.$shutdown();
    expect(process.listenerCount("SIGTERM")).toBe(before);
  });

  it("readiness answers 503 as soon as $shutdown() begins, while an in-flight query still drains", async () => {
    const client = db();
    const health = healthHandlers(client);
    const server: Server = createServer((req, res) => {
      if (!health.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      const lock = await lockEverywhere();
      let drained = false;
      const started = client.$executeRawUnsafe(`SELECT 1 FROM ${lock.waitSql}`).then(() => {
        drained = true;
        return "done";
      });
      await waitForWaiters(lock, 1);

      const shutdown = client.$shutdown();
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: "not-ready" });
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const report = await client.$health();
      expect(report).toMatchObject({ status: "down", ready: false, shuttingDown: true });
      expect(drained).toBe(false); // all of it while the query was still in flight

      await lock.release();
      await shutdown;
      expect(await started).toBe("done");
      await expect(client.user.count()).rejects.toMatchObject({ status: 503, reason: "shutting-down" });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a call still waiting for a connection when shutdown begins is drained too: it runs and succeeds", async () => {
    const client = db({ primaryUrl: `${cluster().primaryUrl}?connection_limit=1` });
    const lock = await lockEverywhere();
    const holder = client.$executeRawUnsafe(`SELECT 1 FROM ${lock.waitSql}`).then(() => "held");
    await waitForWaiters(lock, 1);
    // The only connection is taken: this one waits in the pool's queue.
    const waiter = client.$primary().$queryRaw`SELECT 1 AS one`.then(() => "served");
    await expect.poll(() => splitStateOf(client)?.nodes[0]?.currentPool?.waitingCount, { timeout: 10_000 }).toBe(1);
    const shutdown = client.$shutdown();
    await lock.release();
    await shutdown;
    expect(await Promise.all([holder, waiter])).toEqual(["held", "served"]);
  });
});

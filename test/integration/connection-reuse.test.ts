import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { describe, type ExpectStatic, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { withTimeBounds } from "../../src/config/time-bounds.ts";
import { type DatabaseUnavailableError, isDatabaseUnavailable } from "../../src/index.ts";
import { createPool } from "../../src/pool/create-pool.ts";
import type { PgNode } from "../cluster/index.ts";
import {
  countPresent,
  expectNothingLost,
  liveDurability,
  resourceCounts,
  scenarioRow,
  seedAuthor,
} from "./chaos/checks.ts";
import { runLoad, type Sample } from "./chaos/load.ts";
import { describeFailures } from "./chaos/report.ts";
import { TcpProxy } from "./chaos/tcp-proxy.ts";
import { type TestDb, uniqueEmail, useCluster } from "./harness.ts";

// A connection whose session state is not known must be closed, never handed to the next caller:
// pg's client-side read timeout ends the wait for a statement, not the statement, so a reused
// connection can still be inside the server's open transaction, and every write on it is then
// acknowledged and lost. Real primary + two streaming replicas; a TCP proxy black-holes the primary
// (or a replica): it stops forwarding both ways and closes nothing, as a partition does.

/** The URL of `node` through `proxy`, under an application_name of its own (to find its backends). */
function viaProxy(node: PgNode, proxy: TcpProxy, app: string, extra = ""): string {
  const url = new URL(node.url);
  url.port = String(proxy.port);
  url.searchParams.set("application_name", app);
  return `${url.toString()}${extra}`;
}

/** Backends of `app` on `node` in `state` (e.g. `idle in transaction`). */
async function backends(node: PgNode, app: string, state: string): Promise<number> {
  const rows = await node.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE $2",
    [app, state],
  );
  return Number(rows[0]?.n ?? 0);
}

async function emailsPresent(node: PgNode, emails: readonly string[]): Promise<number> {
  const rows = await node.query<{ n: string }>("SELECT count(*) AS n FROM users WHERE email = ANY($1)", [emails]);
  return Number(rows[0]?.n ?? 0);
}

/** `count` writes one after another; the e-mails of those acknowledged. */
async function writeSequentially(db: TestDb, count: number, tag: string): Promise<string[]> {
  const acknowledged: string[] = [];
  for (let i = 0; i < count; i++) {
    const email = uniqueEmail(tag);
    try {
      await db.user.create({ data: { email } });
      acknowledged.push(email);
    } catch {
      // not acknowledged: nothing to find afterwards
    }
  }
  return acknowledged;
}

const settle = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe("a connection in an unknown state is closed, never reused", () => {
  const { cluster, db } = useCluster(2);

  /**
   * Runs `body` with a client whose primary is reached through a TCP proxy, its backends named
   * `app`; closes both afterwards, also when the test fails.
   */
  async function throughProxy(
    app: string,
    options: Parameters<typeof db>[0],
    body: (split: TestDb, proxy: TcpProxy, primary: PgNode) => Promise<void>,
    extra = "",
  ): Promise<void> {
    const primary = cluster().primary;
    const proxy = await new TcpProxy(primary.port).listen();
    const split = db({ primaryUrl: viaProxy(primary, proxy, app, extra), shutdown: false, ...options });
    try {
      await body(split, proxy, primary);
    } finally {
      await split.$disconnect();
      await proxy.close();
    }
  }

  /**
   * `count` writes after the fault are acknowledged and there, and no backend of `app` sits in a
   * transaction. `check`: the test's own `expect` in concurrent tests.
   */
  async function expectLaterWritesKept(
    split: TestDb,
    primary: PgNode,
    app: string,
    count: number,
    check: ExpectStatic = expect,
  ): Promise<string[]> {
    const acknowledged = await writeSequentially(split, count, `after-${app}`);
    check(acknowledged).toHaveLength(count);
    check(await emailsPresent(primary, acknowledged)).toBe(count);
    await check.poll(() => backends(primary, app, "idle in transaction%"), { timeout: 10_000 }).toBe(0);
    return acknowledged;
  }

  describe.concurrent("an interactive transaction caught by a partition of the primary, every default", () => {
    for (const partitionMs of [12_000, 20_000, 40_000]) {
      it(`${partitionMs / 1000} s: the transaction does not commit; 80 writes after it are acknowledged, visible from another session and still there after $disconnect()`, async ({
        expect,
      }) => {
        const app = `partition-${partitionMs}`;
        await throughProxy(app, {}, async (split, proxy, primary) => {
          const inside = [uniqueEmail("tx-before"), uniqueEmail("tx-during")];
          const started = performance.now();
          let endedAfterMs = 0;
          const transaction = settle(
            split.$transaction(async (tx) => {
              await tx.user.create({ data: { email: inside[0]! } });
              proxy.blackHole();
              await tx.user.create({ data: { email: inside[1]! } });
            }),
          ).finally(() => {
            endedAfterMs = performance.now() - started;
          });
          // The fault is a partition of this length: the duration is the scenario, not a wait.
          await sleep(partitionMs);
          proxy.restore();
          const failure = await transaction;
          const what = isDatabaseUnavailable(failure)
            ? `503 ${failure.reason} ${failure.outcome}`
            : `${(failure as { code?: string })?.code ?? (failure as Error)?.name}`;
          console.log(
            `${partitionMs / 1000} s partition: the transaction ended ${what} after ${Math.round(endedAfterMs)} ms`,
          );
          expect(failure).toBeDefined();
          if (isDatabaseUnavailable(failure)) expect(failure.outcome).toBe("not-applied");

          const acknowledged = await expectLaterWritesKept(split, primary, app, 80, expect);
          expect(await emailsPresent(primary, inside)).toBe(0);
          await split.$disconnect();
          expect(await emailsPresent(primary, acknowledged)).toBe(80);
        });
      }, 120_000);
    }
  });

  it("a COMMIT that is sent and never answered: a 503 that says the outcome is unknown; the connection is closed", async () => {
    // breaker.timeout 1 s: the COMMIT's client-side read timeout is 1.5 s.
    await throughProxy("unanswered-commit", { breaker: { timeout: 1_000 } }, async (split, proxy, primary) => {
      const failure = await settle(
        split.$transaction(async (tx) => {
          await tx.user.create({ data: { email: uniqueEmail("commit") } });
          proxy.blackHole();
        }),
      );
      expect(isDatabaseUnavailable(failure)).toBe(true);
      expect(failure).toMatchObject({ reason: "unreachable", outcome: "unknown" });
      expect((failure as Error).message).toMatch(/COMMIT/);
      proxy.restore();
      await expectLaterWritesKept(split, primary, "unanswered-commit", 20);
    });
  }, 60_000);

  it("a transaction whose BEGIN gets no answer within maxWait: a 503 that says nothing was applied, not Prisma's P2028", async () => {
    await throughProxy("unanswered-begin", {}, async (split, proxy, primary) => {
      await split.user.create({ data: { email: uniqueEmail("warm") } });
      proxy.blackHole();
      const email = uniqueEmail("begin");
      const failure = await settle(split.$transaction(async (tx) => tx.user.create({ data: { email } })));
      expect(isDatabaseUnavailable(failure)).toBe(true);
      expect((failure as DatabaseUnavailableError).outcome).toBe("not-applied");
      proxy.restore();
      await expectLaterWritesKept(split, primary, "unanswered-begin", 20);
      expect(await emailsPresent(primary, [email])).toBe(0);
    });
  }, 60_000);

  it("an autocommit write that gets no answer: a 503 that says its outcome is unknown; the next writes persist", async () => {
    await throughProxy("unanswered-write", { breaker: { timeout: 1_000 } }, async (split, proxy, primary) => {
      await split.user.create({ data: { email: uniqueEmail("warm") } });
      proxy.blackHole();
      const failure = await settle(split.user.create({ data: { email: uniqueEmail("unanswered") } }));
      expect(failure).toMatchObject({ reason: "unreachable", outcome: "unknown" });
      proxy.restore();
      await expectLaterWritesKept(split, primary, "unanswered-write", 20);
    });
  }, 60_000);

  it("a deadline's cancel request that never reaches the server: the statement's connection is closed once it finishes, not reused", async () => {
    const app = "unconfirmed-cancel";
    const locker = new pg.Client({ connectionString: cluster().primary.url });
    await locker.connect();
    try {
      // No monitor: the only new connection while they are held is the cancel request's.
      const options = { replicas: { pollIntervalMs: false } } as const;
      await throughProxy(
        app,
        options,
        async (split, proxy, primary) => {
          // A connection to the primary is open before new ones are held.
          await split.$primary().user.count();
          await locker.query("BEGIN");
          await locker.query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
          // Cancel requests travel on a new connection: the proxy holds new ones, so none arrives.
          proxy.holdNewConnections();
          const before = proxy.abandoned;
          const read = settle(split.$withDeadline(300, () => split.$primary().user.findFirst()));
          let pid: number | undefined;
          await expect
            .poll(
              async () => {
                const rows = await primary.query<{ pid: number }>(
                  "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
                  [app],
                );
                pid = rows[0]?.pid;
                return pid;
              },
              { timeout: 10_000 },
            )
            .toBeTypeOf("number");
          expect(await read).toMatchObject({ reason: "deadline", outcome: "not-applied" });
          // The cancel request went nowhere, and the client gave up waiting for the server's goodbye.
          await expect.poll(() => proxy.abandoned, { timeout: 10_000 }).toBeGreaterThan(before);
          await locker.query("COMMIT");
          proxy.restore();
          // The statement ran to its end on the server; its connection must not go back to the
          // pool, where the cancel, if it still arrived, would cancel someone else's statement (and
          // where, reused, it answered the next statement with []). The pool has one connection:
          // the next statement waits for it, and must get a new one.
          const next = (await split.$primary().$queryRaw`select pg_backend_pid() as pid`) as Array<{ pid: number }>;
          expect(next[0]?.pid).toBeTypeOf("number");
          expect(next[0]?.pid).not.toBe(pid);
          await expect
            .poll(async () => (await primary.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).length)
            .toBe(0);
          await expectLaterWritesKept(split, primary, app, 5);
        },
        "&connection_limit=1",
      );
    } finally {
      await locker.end().catch(() => {});
    }
  }, 60_000);

  describe("under load", () => {
    let authorId = 0;
    const load = async (split: TestDb, tag: string, restoredAt: () => number | undefined, samples: Sample[]) =>
      runLoad(split, {
        samples,
        workers: 6,
        readShare: 0.5,
        pauseMs: 5,
        durationMs: 1_000,
        tag,
        authorId,
        until: (samples: readonly Sample[]) => {
          const at = restoredAt();
          return at !== undefined && samples.some((s) => s.kind === "write" && s.outcome === "ok" && s.startedAt > at);
        },
        maxDurationMs: 60_000,
      });

    it("a 12 s partition of the primary during a plain write load: every acknowledged write there once, no open transaction, nothing answered not-applied in the table", async () => {
      authorId ||= await seedAuthor(cluster(), uniqueEmail("partition-author"));
      const primary = cluster().primary;
      const proxy = await new TcpProxy(primary.port).listen();
      const before = resourceCounts();
      const split = db({ primaryUrl: viaProxy(primary, proxy, "partition-load"), shutdown: false });
      let restoredAt: number | undefined;
      const samples: Sample[] = [];
      try {
        const fault = (async () => {
          // Once the load's writes go through; then a partition of 12 s (the duration is the scenario, not a wait).
          await expect
            .poll(() => samples.some((s) => s.kind === "write" && s.outcome === "ok"), { timeout: 20_000 })
            .toBe(true);
          proxy.blackHole();
          await sleep(12_000);
          proxy.restore();
          restoredAt = performance.now();
        })();
        const [result] = await Promise.all([load(split, "partition-load", () => restoredAt, samples), fault]);
        const live = await liveDurability(cluster(), result);
        await split.$disconnect();
        const row = await scenarioRow(cluster(), "partition during writes", result, before, live);
        console.log(`partition during writes: ${describeFailures(result.samples)}`);
        expect(result.samples.filter((s) => s.outcome === "other")).toEqual([]);
        expect(result.samples.filter((s) => s.kind === "read" && s.outcome !== "ok")).toEqual([]);
        expectNothingLost(row);
      } finally {
        await split.$disconnect();
        await proxy.close();
      }
    }, 120_000);

    it("a partition of a replica during hedged reads: no read fails, every acknowledged write there once, no open transaction", async () => {
      authorId ||= await seedAuthor(cluster(), uniqueEmail("partition-author"));
      const replica = cluster().replicas[0]!;
      const proxy = await new TcpProxy(replica.port).listen();
      const before = resourceCounts();
      const split = db({
        replicaUrls: [viaProxy(replica, proxy, "partition-hedge"), cluster().replicaUrls[1]!],
        replicas: { hedge: { afterMs: 20 }, select: "round-robin" },
        breaker: { timeout: 1_000 },
        shutdown: false,
      });
      let restoredAt: number | undefined;
      const samples: Sample[] = [];
      try {
        const fault = (async () => {
          // Once the proxied replica has answered the load; then a partition of 5 s (the scenario, not a wait).
          await expect
            .poll(() => samples.some((s) => s.kind === "read" && s.outcome === "ok" && s.port === replica.port), {
              timeout: 20_000,
            })
            .toBe(true);
          proxy.blackHole();
          await sleep(5_000);
          proxy.restore();
          restoredAt = performance.now();
        })();
        const [result] = await Promise.all([load(split, "partition-hedge", () => restoredAt, samples), fault]);
        const live = await liveDurability(cluster(), result);
        await split.$disconnect();
        const row = await scenarioRow(cluster(), "partition during hedged reads", result, before, live);
        expect(result.samples.filter((s) => s.outcome !== "ok")).toEqual([]);
        expectNothingLost(row);
        expect(await countPresent(cluster(), result.notApplied)).toBe(0);
      } finally {
        await split.$disconnect();
        await proxy.close();
      }
    }, 120_000);
  });

  it("the pool closes a connection released inside a transaction, and pg-pool drops a client ended as it is released (the mechanism, on a real pool)", async () => {
    const settings = withTimeBounds(parseConnectionUrl(cluster().primaryUrl, "primaryUrl"), 10_000, false);
    const pool = createPool(settings, "reuse-check", () => {});
    try {
      const client = await pool.connect();
      await client.query("BEGIN");
      const [{ pid }] = (await client.query("SELECT pg_backend_pid() AS pid")).rows as [{ pid: number }];
      client.release();
      expect(pool.totalCount).toBe(0);
      await expect
        .poll(
          async () => (await cluster().primary.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).length,
        )
        .toBe(0);
      // A clean connection is reused.
      const clean = await pool.connect();
      await clean.query("SELECT 1");
      clean.release();
      expect(pool.idleCount).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { isDatabaseUnavailable, isReplicaWriteError, ReplicaWriteError } from "../../src/index.ts";
import { uniqueEmail, useCluster } from "./harness.ts";
import { outcomeOf, RESILIENCE_EVENTS, recordEvents, settle, sqlStatesIn } from "./observe.ts";

// DESIGN.md "Failure handling": what a fault says about the node. A statement the server ended
// itself (57014) is the query's outcome, not a sick node; a write the SQL check could not see
// (25006 on a replica) is a misroute, re-run once on the primary. Neither may count against a
// breaker, be retried, or turn into a 503. Observed from outside: the error the caller gets,
// the `query` events (one per attempt), the breaker states in $health(), and which server
// answered (node_info).

/** Every attempt's breaker timeout is 1 s: backed by a server-side statement_timeout a little below it. */
const BREAKER = { timeout: 1_000 };

describe("fault semantics on a real primary and streaming replica", () => {
  const { cluster, db } = useCluster(1);
  const replicaPort = () => cluster().replicas[0]!.port;

  it("a slow read is the query's outcome: its own 57014, run once, not retried, no breaker moves", async () => {
    const client = db({ breaker: BREAKER });
    const attempts: string[] = [];
    client.$events.on("query", (event) => attempts.push(`${event.operation} on ${event.node}`));
    const resilience = recordEvents(client, RESILIENCE_EVENTS);

    const error = await client.$queryRaw`select 1 as x from pg_sleep(3)`.catch((e: unknown) => e);
    await settle();

    expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    expect(sqlStatesIn(error), String(error)).toContain("57014");
    expect((error as Error).name).toMatch(/^PrismaClient/);
    expect(attempts).toEqual(["$queryRaw on replica-0"]);
    expect(resilience).toEqual([]);
    const health = await client.$health();
    expect([health.primary, ...health.replicas].map((node) => `${node.name} ${node.breaker}`)).toEqual([
      "primary closed",
      "replica-0 closed",
    ]);
  });

  it("a burst of slow reads ends each as its own 57014 or shed; no breaker opens and every later call succeeds", async () => {
    const client = db({ breaker: BREAKER });
    const opened = recordEvents(client, ["breaker:open"]);

    // 12 at once: more than both pools (2 × CPUs + 1 connections each on this machine) can run.
    const burst = await Promise.allSettled(
      Array.from({ length: 12 }, () => Promise.resolve(client.$queryRaw`select 1 as x from pg_sleep(1.5)`)),
    );
    const outcomes = burst.map((result) => outcomeOf(result));
    expect.soft(outcomes.filter((outcome) => outcome !== "57014" && outcome !== "503 overloaded")).toEqual([]);
    // Some ran and were ended by the server: the burst did reach the nodes.
    expect.soft(outcomes).toContain("57014");

    // One at a time, so nothing here depends on the bulkhead's view of the pace.
    const later: string[] = [];
    const record = async (label: string, call: () => PromiseLike<unknown>) => {
      const [result] = await Promise.allSettled([Promise.resolve(call())]);
      later.push(`${label}: ${outcomeOf(result!)}`);
    };
    for (let i = 0; i < 5; i++) {
      await record("findMany", () => client.user.findMany({ take: 1 }));
      await record("count", () => client.user.count());
      await record("nodeInfo", () => client.nodeInfo.findFirst());
      await record("queryRaw", () => client.$queryRaw`select 1 as x`);
    }
    for (let i = 0; i < 5; i++) {
      await record("create", () => client.user.create({ data: { email: uniqueEmail("after-burst") } }));
    }
    expect(later.filter((line) => !line.endsWith(": ok"))).toEqual([]);
    expect(later).toHaveLength(25);
    expect(opened).toEqual([]);
  });

  describe("a write the SQL check cannot see (a function declared STABLE that inserts), sent to the replica", () => {
    beforeAll(async () => {
      await cluster().primary.query("CREATE TABLE bumps (tag text NOT NULL)");
      await cluster().primary.query(
        "CREATE FUNCTION bump_insert(tag text) RETURNS int LANGUAGE sql AS $$ INSERT INTO bumps (tag) VALUES (tag) RETURNING 1 $$",
      );
      // The catalog vouches for what a function is declared: this one lies, the standby refuses it.
      await cluster().primary.query(
        "CREATE FUNCTION bump_fn(tag text) RETURNS int STABLE LANGUAGE sql AS $$ SELECT bump_insert(tag) $$",
      );
      await cluster().waitForReplicas();
    });

    it("re-runs once on the primary: every call succeeds, each insert applied once, the replica stays in rotation", async () => {
      const client = db();
      const attempts: string[] = [];
      client.$events.on("query", (event) => attempts.push(event.node));
      const opened = recordEvents(client, ["breaker:open"]);
      const tags = Array.from({ length: 12 }, (_, i) => `${uniqueEmail("bump")}-${i}`);

      const outcomes: string[] = [];
      for (const tag of tags) {
        const [result] = await Promise.allSettled([Promise.resolve(client.$queryRaw`select bump_fn(${tag}) as r`)]);
        outcomes.push(outcomeOf(result!, ["25006"]));
      }
      await settle();

      expect(outcomes).toEqual(tags.map(() => "ok"));
      // The SQL check did send them to the replica first: this is the misroute under test.
      expect(attempts.filter((node) => node === "replica-0")).not.toEqual([]);
      const rows = await cluster().primary.query<{ tag: string; n: number }>(
        "SELECT tag, count(*)::int AS n FROM bumps WHERE tag = ANY($1) GROUP BY tag ORDER BY tag",
        [tags],
      );
      expect(rows).toEqual([...tags].sort().map((tag) => ({ tag, n: 1 })));
      expect.soft(opened).toEqual([]);

      const health = await client.$health();
      expect.soft(health.replicas[0]).toMatchObject({ name: "replica-0", breaker: "closed", inRotation: true });
      expect((await client.nodeInfo.findFirstOrThrow()).port).toBe(replicaPort());
    });
  });

  it("db.$replica() refuses a write with a ReplicaWriteError, before anything is sent", async () => {
    const client = db();
    const attempts: string[] = [];
    client.$events.on("query", (event) => attempts.push(`${event.operation} on ${event.node}`));
    const email = uniqueEmail("replica-write");
    const writes = [
      () => client.$replica().user.create({ data: { email } }),
      () => client.$replica().user.updateMany({ where: { email }, data: { name: "x" } }),
      () => client.$replica().$executeRaw`INSERT INTO users (email) VALUES (${email})`,
    ];
    for (const write of writes) {
      const error = await Promise.resolve(write()).catch((e: unknown) => e);
      expect(error, String(error)).toMatchObject({ name: "ReplicaWriteError", code: "PRISMA_SPLIT_REPLICA_WRITE" });
      expect(isReplicaWriteError(error)).toBe(true);
      expect(error).toBeInstanceOf(ReplicaWriteError);
      expect(isDatabaseUnavailable(error)).toBe(false);
    }
    await settle();
    expect(attempts).toEqual([]);
    expect(await cluster().primary.query("SELECT 1 FROM users WHERE email = $1", [email])).toEqual([]);
  });

  it("a transaction is bounded by its own timeout, not the breaker's: a 2.5 s statement in it succeeds", async () => {
    const client = db({ breaker: BREAKER });
    const result = await client.$transaction(async (tx) => tx.$queryRaw`select 1 as x from pg_sleep(2.5)`, {
      timeout: 20_000,
    });
    expect(result).toEqual([{ x: 1 }]);
  });

  it("a statement cancelled by the server inside a transaction rejects it with the query's error, not a 503", async () => {
    const client = db({ breaker: BREAKER });
    const resilience = recordEvents(client, RESILIENCE_EVENTS);
    const error = await client
      .$transaction(async (tx) => {
        await tx.$executeRaw`SET LOCAL statement_timeout = 200`;
        return tx.$queryRaw`select 1 as x from pg_sleep(2)`;
      })
      .catch((e: unknown) => e);
    await settle();
    expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    expect(sqlStatesIn(error), String(error)).toContain("57014");
    expect(resilience).toEqual([]);
  });
});

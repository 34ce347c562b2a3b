import { describe, expect, it } from "vitest";
import type { RerunEvent } from "../../src/events.ts";
import type { PgNode } from "../cluster/index.ts";
import { useCluster } from "./harness.ts";
import { activeStatements } from "./observe.ts";

// Errors only a standby raises must not reach the caller: the read runs again, once, on the
// primary, never counted against the replica (whose breaker stays closed and which stays in
// rotation), and a `rerun` event says so. `$replica()` reads keep the replica's error: the caller
// chose the node. Real primary + streaming replica.

const breakerEvents = ["breaker:open", "breaker:halfOpen"] as const;

describe("replica-only errors re-run the read on the primary", () => {
  const { cluster, db } = useCluster(1);

  function observed(split: ReturnType<typeof db>) {
    const reruns: RerunEvent[] = [];
    const breakers: string[] = [];
    split.$events.on("rerun", (event) => reruns.push(event));
    for (const name of breakerEvents) split.$events.on(name, (event) => breakers.push(`${name} ${event.node}`));
    return { reruns, breakers };
  }

  it("42P01: a table the primary has and the lagging replica has not replayed yet", async () => {
    const replica = cluster().replicas[0]!;
    const split = db({ shutdown: false });
    const { reruns, breakers } = observed(split);
    await cluster().pauseReplay(replica);
    try {
      await cluster().primary.query("CREATE TABLE just_migrated (id int); INSERT INTO just_migrated VALUES (1), (2)");
      const rows = await split.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM just_migrated`;
      expect(rows).toEqual([{ n: 2 }]);
      expect(reruns).toEqual([expect.objectContaining({ node: "replica-0", fault: expect.stringMatching(/42P01/) })]);
      // The caller chose the replica: its error stands.
      await expect(split.$replica().$queryRaw`SELECT count(*)::int AS n FROM just_migrated`).rejects.toThrow(
        /just_migrated/,
      );
      expect(breakers).toEqual([]);
    } finally {
      await cluster().resumeReplay(replica);
    }
  });

  it("55000: a function declared STABLE that asks for the WAL position, which a standby refuses (recovery is in progress)", async () => {
    await cluster().primary.query(
      "CREATE OR REPLACE FUNCTION wal_position() RETURNS text STABLE LANGUAGE sql AS 'SELECT pg_current_wal_lsn()::text'",
    );
    await cluster().waitForReplicas();
    const split = db({ shutdown: false });
    const { reruns, breakers } = observed(split);
    const [row] = await split.$queryRaw<Array<{ lsn: string }>>`SELECT wal_position() AS lsn`;
    expect(row?.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(reruns).toEqual([expect.objectContaining({ node: "replica-0", fault: expect.stringMatching(/55000/) })]);
    expect(breakers).toEqual([]);
    expect(await split.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });

  it("40001: a read cancelled by a conflict with recovery (replay needs the lock it holds)", async () => {
    const replica = cluster().replicas[0]!;
    await replica.query("ALTER SYSTEM SET max_standby_streaming_delay = 0");
    await replica.query("SELECT pg_reload_conf()");
    await cluster().primary.query("CREATE TABLE IF NOT EXISTS conflicted (id int); INSERT INTO conflicted VALUES (1)");
    await cluster().waitForReplicas();
    const split = db({ shutdown: false });
    const { reruns, breakers } = observed(split);
    try {
      // Slow only on the standby, where it holds its lock on `conflicted` until replay cancels it.
      const read = split.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM conflicted, pg_sleep(CASE WHEN pg_is_in_recovery() THEN 60 ELSE 0 END) /* conflicted-read */`;
      const settled = read.then((rows) => rows);
      await expect.poll(() => activeStatements(replica as PgNode, "conflicted-read"), { timeout: 20_000 }).toBe(1);
      // An ACCESS EXCLUSIVE lock, replayed on the standby: it cancels the read at once (delay 0).
      await cluster().primary.query("ALTER TABLE conflicted ADD COLUMN IF NOT EXISTS added int");
      expect(await settled).toEqual([{ n: 1 }]);
      expect(reruns).toEqual([expect.objectContaining({ node: "replica-0", fault: expect.stringMatching(/40001/) })]);
      expect(breakers).toEqual([]);
    } finally {
      await replica.query("ALTER SYSTEM RESET max_standby_streaming_delay");
      await replica.query("SELECT pg_reload_conf()");
    }
  }, 60_000);

  it("53300 on a replica (its role may open no more connections): the read goes to the primary; no breaker opens", async () => {
    await cluster().primary.query(
      "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'capped_reader') THEN CREATE ROLE capped_reader LOGIN CONNECTION LIMIT 0; END IF; END $$",
    );
    await cluster().primary.query("GRANT SELECT ON ALL TABLES IN SCHEMA public TO capped_reader");
    await cluster().waitForReplicas();
    const replica = cluster().replicas[0]!;
    const capped = replica.url.replace("postgresql://postgres@", "postgresql://capped_reader@");
    const split = db({
      replicaUrls: [capped],
      breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 },
      shutdown: false,
    });
    const breakers: string[] = [];
    for (const name of breakerEvents) split.$events.on(name, (event) => breakers.push(`${name} ${event.node}`));
    const answered: string[] = [];
    split.$events.on("query", (event) => answered.push(`${event.node} ${event.error === undefined ? "ok" : "failed"}`));
    for (let i = 0; i < 5; i++) await expect(split.user.count()).resolves.toBeTypeOf("number");
    // Each read was refused a connection by the replica (never sent), then served by the primary.
    expect(answered.filter((line) => line === "replica-0 failed").length).toBeGreaterThan(0);
    expect(answered.filter((line) => line === "primary ok")).toHaveLength(5);
    expect(breakers).toEqual([]);
  });
});

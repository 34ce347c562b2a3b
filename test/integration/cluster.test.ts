import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningPostmasterPid } from "../../src/dev-cluster/postmaster.ts";
import {
  applyMigrations,
  type EmbeddedCluster,
  type EmbeddedNode,
  findMigrationsDir,
  type PgNode,
  startCluster,
} from "../cluster";

/** Postmasters of the cluster plus their direct children (backends, walsender, checkpointer...). */
function serverProcessIds(cluster: EmbeddedCluster): number[] {
  const postmasters = cluster.nodes.map((node) => runningPostmasterPid(node.dataDir)).filter((pid) => pid !== null);
  const children = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => postmasters.includes(ppid as number))
    .map(([pid]) => pid as number);
  return [...postmasters, ...children];
}

/** Processes that still exist and are not zombies waiting for init to reap them. */
function liveProcesses(pids: number[]): string[] {
  const lines = execFileSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" }).trim().split("\n");
  return lines.filter((line) => {
    const [pid, stat] = line.trim().split(/\s+/);
    return pids.includes(Number(pid)) && !stat?.startsWith("Z");
  });
}

async function insertUser(node: PgNode, email: string): Promise<void> {
  await node.query(`INSERT INTO "users" ("email") VALUES ($1)`, [email]);
}

async function hasUser(node: PgNode, email: string): Promise<boolean> {
  return (await node.query(`SELECT 1 FROM "users" WHERE "email" = $1`, [email])).length === 1;
}

describe("test cluster", () => {
  // The embedded backend whatever TEST_CLUSTER says: this file checks its processes and files.
  let cluster: EmbeddedCluster;
  let replica: EmbeddedNode;

  beforeAll(async () => {
    const startedAt = performance.now();
    cluster = await startCluster({ backend: "embedded", replicas: 1 });
    console.log(`primary + 1 replica ready and migrated in ${Math.round(performance.now() - startedAt)} ms`);
    replica = cluster.replicas[0] as EmbeddedNode;
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("runs a primary and a replica in recovery on loopback ports", async () => {
    expect(cluster.primaryUrl).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/app$/);
    expect(cluster.replicaUrls).toEqual([replica.url]);
    expect(await cluster.primary.query("SELECT pg_is_in_recovery() AS in_recovery")).toEqual([{ in_recovery: false }]);
    expect(await replica.query("SELECT pg_is_in_recovery() AS in_recovery")).toEqual([{ in_recovery: true }]);
  });

  it("applies the migrations, visible on the replica, and records them like prisma migrate deploy", async () => {
    expect(await cluster.primary.query(`SELECT count(*)::int AS n FROM "node_info"`)).toEqual([{ n: 1 }]);
    expect(await replica.query(`SELECT count(*)::int AS n, min(port) AS port FROM "node_info"`)).toEqual([
      { n: 2, port: replica.port },
    ]);
    const sql = readFileSync(path.join(findMigrationsDir() as string, "0001_init", "migration.sql"));
    const history = await cluster.primary.query(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"`,
    );
    expect(history).toEqual([
      {
        migration_name: "0001_init",
        checksum: createHash("sha256").update(sql).digest("hex"),
        finished_at: expect.any(Date),
      },
    ]);
    expect(await applyMigrations(cluster.primaryUrl)).toEqual([]);
  });

  it("replicates a row inserted on the primary", async () => {
    await insertUser(cluster.primary, "replicated@example.com");
    await cluster.waitForReplicas();
    expect(await hasUser(replica, "replicated@example.com")).toBe(true);
  });

  it("rejects writes on the replica with SQLSTATE 25006", async () => {
    await expect(insertUser(replica, "nope@example.com")).rejects.toMatchObject({ code: "25006" });
  });

  it("holds changes back while replay is paused and applies them on resume", async () => {
    await cluster.pauseReplay(replica);
    await insertUser(cluster.primary, "paused@example.com");
    await cluster.waitForReplicas(); // skips the paused replica instead of timing out
    // The replica has received the insert's WAL (streaming goes on while replay is paused)...
    const [{ lsn }] = (await cluster.primary.query("SELECT pg_current_wal_lsn()::text AS lsn")) as [{ lsn: string }];
    const received = async () =>
      (await replica.query<{ ok: boolean }>("SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS ok", [lsn]))[0]?.ok;
    await expect.poll(received, { timeout: 10_000 }).toBe(true);
    // ...and not applied it.
    expect(await hasUser(replica, "paused@example.com")).toBe(false);

    await cluster.resumeReplay(replica);
    await cluster.waitForReplicas();
    expect(await hasUser(replica, "paused@example.com")).toBe(true);
  });

  it("restarts a killed replica, which then catches up", async () => {
    await replica.kill();
    expect(replica.isRunning()).toBe(false);
    await expect(replica.query("SELECT 1")).rejects.toThrow();
    await insertUser(cluster.primary, "while-down@example.com");

    await replica.start();
    expect(replica.isRunning()).toBe(true);
    await cluster.waitForReplicas();
    expect(await hasUser(replica, "while-down@example.com")).toBe(true);
  });

  it("stop() removes the base dir and leaves no server process behind, and is idempotent", async () => {
    const pids = serverProcessIds(cluster);
    expect(pids.length).toBeGreaterThan(2);
    await replica.stop(); // an already stopped node must not trip up cluster.stop()

    await Promise.all([cluster.stop(), cluster.stop()]);
    await cluster.stop();

    expect(existsSync(cluster.baseDir)).toBe(false);
    expect(liveProcesses(pids)).toEqual([]);
    const psOutput = execFileSync("ps", ["-eo", "args="], { encoding: "utf8" });
    expect(psOutput).not.toContain(cluster.baseDir);
  });
});

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDoctor } from "../../src/cli/doctor.ts";
import { useCluster } from "./harness.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** `prisma-split <args>` as a user runs it, from the sources. */
function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "src/cli/index.ts"), ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: "", DATABASE_REPLICA_URLS: "", PRISMA_SPLIT_INSTANCES: "", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("npx prisma-split doctor against a real primary and replica", () => {
  const { cluster } = useCluster(1);
  const healthy = () => ({
    DATABASE_URL: cluster().primaryUrl,
    DATABASE_REPLICA_URLS: cluster().replicaUrls.join(","),
  });

  it("prints a table and exits 0 on a healthy cluster", async () => {
    const result = await cli(["doctor"], healthy());
    console.log(result.stdout);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^primary\s+postgresql:\/\/postgres@127\.0\.0\.1:\d+\/app\s+primary ok\s+18\.\d+/m);
    expect(result.stdout).toMatch(
      /^replica-0\s+.*replica ok\s+18\.\d+\s+[\d.]+ ms\s+\d+ B, \d+ ms\s+\d+\/100 used\s+1 x \d+ = \d+ \/ 90 ok$/m,
    );
    expect(result.stdout).toContain("OK: no problems found");
  });

  it("exits 1 when a 'replica' is really the primary, a node is unreachable, or pools oversubscribe", async () => {
    // Another address of the primary (localhost would be refused at once as the same server).
    const primaryByAnotherName = cluster().primaryUrl.replace("127.0.0.1", "0.0.0.0");
    const result = await cli(["doctor", "--instances", "40"], {
      DATABASE_URL: cluster().primaryUrl,
      DATABASE_REPLICA_URLS: `${primaryByAnotherName},postgresql://app:hunter2@127.0.0.1:1/app`,
    });
    console.log(result.stdout);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^replica-0\s+.*MISMATCH \(is primary\)/m);
    expect(result.stdout).toMatch(/^replica-1\s+postgresql:\/\/app:\*\*\*@127\.0\.0\.1:1\/app\s+UNREACHABLE/m);
    expect(result.stdout).toContain('replica-0: is not in recovery: this "replica" is a writable primary');
    expect(result.stdout).toMatch(/primary: 40 instance\(s\) x \d+ connections = \d+ exceeds max_connections 100/);
    // The monitor's rule: the same address, port and postmaster start time is the primary itself.
    expect(result.stdout).toContain("it reaches the primary's own server (same address, port and start time)");
    expect(result.stdout).not.toContain("hunter2");
  });

  it("a 'replica' that is another cluster's primary (the machine's own PostgreSQL on 5432) is named as such", async () => {
    const other = "postgresql://postgres@127.0.0.1:5432/postgres";
    const reachable = await runDoctor({ primaryUrl: other, env: {} }).then(
      (report) => report.nodes[0]?.reachable === true,
      () => false,
    );
    if (!reachable) {
      console.warn("SKIPPED: no PostgreSQL answers on 127.0.0.1:5432 (the machine's own service)");
      return;
    }
    const report = await runDoctor({ primaryUrl: cluster().primaryUrl, replicaUrls: other, env: {} });
    expect(report.ok).toBe(false);
    expect(report.nodes[1]).toMatchObject({ reachable: true, roleCheck: "mismatch", actualRole: "primary" });
    expect(report.problems.join("\n")).toContain("replica-0: is not in recovery");
    expect(report.problems.join("\n")).toContain("beside the primary: DATABASE_REPLICA_URLS names another primary");
  });

  it("shows the roles it discovered behind one multi-host URL (the writer listed second)", async () => {
    const primary = new URL(cluster().primaryUrl);
    const replica = new URL(cluster().replicaUrls[0]!);
    const result = await cli(["doctor"], {
      DATABASE_URL: `postgresql://postgres@${replica.host},${primary.host}/app?target_session_attrs=read-write`,
    });
    console.log(result.stdout);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^primary\\s+postgresql://postgres@${primary.host}/app\\s+primary ok`, "m"),
    );
    expect(result.stdout).toMatch(
      new RegExp(`^replica-\\d\\s+postgresql://postgres@${replica.host}/app\\s+replica ok`, "m"),
    );
  });

  it("--json gives the same report for machines; a bad setting exits 2 naming it", async () => {
    const json = await cli(["doctor", "--json"], healthy());
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: true, instances: 1, problems: [] });
    expect(report.nodes.map((node: { name: string; roleCheck: string }) => [node.name, node.roleCheck])).toEqual([
      ["primary", "ok"],
      ["replica-0", "ok"],
    ]);

    const bad = await cli(["doctor"], { DATABASE_URL: "mysql://root:pw@db/app" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("DATABASE_URL: must use the postgresql:// scheme");
    expect(bad.stderr).not.toContain(":pw@");
  });

  it("reads lag against the primary: a replica whose replay is paused falls behind in bytes", async () => {
    const replica = cluster().replicas[0]!;
    await cluster().pauseReplay(replica);
    try {
      await cluster().primary.query("INSERT INTO users (email) VALUES ($1)", [`doctor-${Date.now()}@example.test`]);
      const report = await runDoctor({
        primaryUrl: cluster().primaryUrl,
        replicaUrls: cluster().replicaUrls.join(","),
        maxLagMs: 0,
        env: {},
      });
      expect(report.nodes[1]?.lagBytes).toBeGreaterThan(0);
      expect(report.ok).toBe(false);
      expect(report.problems.join("\n")).toMatch(/replica-0: replays \d+ ms behind, more than 0 ms/);
    } finally {
      await cluster().resumeReplay(replica);
    }
  });
});

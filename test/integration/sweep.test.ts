import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { baseDirPrefix, createBaseDir, ownerFileName, stackDirPrefix } from "../../src/dev-cluster/base-dir.ts";
import { startCluster, sweepOrphanedClusters } from "../../src/dev-cluster/index.ts";
import { isProcessAlive } from "../../src/dev-cluster/postmaster.ts";
import { recordProcess } from "../../src/dev-cluster/recorded-processes.ts";

/** A cluster whose owner was SIGKILLed (no handler ran) is swept by the next start. */
const fixture = fileURLToPath(new URL("./fixtures/orphan-cluster.ts", import.meta.url));
const raceFixture = fileURLToPath(new URL("./fixtures/base-dir-race.ts", import.meta.url));

/** Runs one side of the race in its own process; resolves with what it printed. */
function raceSide(role: "create" | "sweep", durationMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", raceFixture, role], {
      env: { ...process.env, DURATION_MS: String(durationMs) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as Record<string, unknown>) : reject(new Error(`${role}: ${code}\n${err}`)),
    );
  });
}

function postmastersUnder(dir: string): string[] {
  return execFileSync("ps", ["-eo", "stat=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(`-D ${dir}/`) && !line.trim().startsWith("Z"));
}

describe("dev cluster sweep", () => {
  it("startCluster() stops and removes a cluster whose owner process died", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture], { stdio: ["ignore", "pipe", "inherit"] });
    const baseDir = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("\n")) resolve(out.trim());
      });
      child.once("exit", (code) => reject(new Error(`the fixture exited (${code}) before starting its cluster`)));
    });
    const killed = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await killed;
    // The control: nothing cleaned up after a SIGKILL.
    expect(postmastersUnder(baseDir)).toHaveLength(2);

    const next = await startCluster({ replicas: 0, migrate: false, backend: "embedded" });
    try {
      expect(postmastersUnder(baseDir)).toEqual([]);
      expect(existsSync(baseDir)).toBe(false);
    } finally {
      await next.stop();
    }
  }, 60_000);

  it("a directory whose owner file is still empty (being written) is not taken for an orphan", () => {
    // The state the race left: a new cluster's directory, its owner file opened but not yet written.
    const dir = mkdtempSync(path.join(os.tmpdir(), baseDirPrefix));
    try {
      writeFileSync(path.join(dir, ownerFileName), "");
      expect(sweepOrphanedClusters()).not.toContain(dir);
      expect(existsSync(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("two processes, one creating cluster directories and one sweeping, for 2 s: no directory is lost", async () => {
    // Before the owner file was written atomically, about 3 % of them were (ENOENT at their chown).
    const [created, swept] = await Promise.all([raceSide("create", 2_000), raceSide("sweep", 2_000)]);
    expect(created.created as number).toBeGreaterThan(100);
    expect(swept.sweeps as number).toBeGreaterThan(100);
    expect(created.lost).toEqual([]);
  }, 30_000);

  it("stops an orphaned stack's recorded processes by pid (a Patroni, an etcd), never a pid that now runs something else", async () => {
    const baseDir = await createBaseDir(undefined, stackDirPrefix);
    const marker = path.join(baseDir, "daemon.conf");
    // What the HA harness records: a detached program whose command line names a file of the stack.
    const daemon = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", marker], {
      detached: true,
      stdio: "ignore",
    });
    daemon.unref();
    const exited = new Promise((resolve) => daemon.once("exit", resolve));
    recordProcess(baseDir, { name: "daemon", stage: 20, pid: daemon.pid!, identity: marker });
    // A stale record whose pid is reused by a process that is not the stack's (this very test).
    recordProcess(baseDir, { name: "stale", stage: 10, pid: process.pid, identity: path.join(baseDir, "gone.yml") });
    // Its owner is gone.
    const owner = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => owner.once("exit", resolve));
    writeFileSync(path.join(baseDir, ownerFileName), `${owner.pid}\n`);

    expect(isProcessAlive(daemon.pid!)).toBe(true);
    expect(sweepOrphanedClusters()).toContain(baseDir);
    await exited;
    expect(isProcessAlive(daemon.pid!)).toBe(false);
    expect(existsSync(baseDir)).toBe(false);
  }, 30_000);
});

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useCluster } from "./harness.ts";

const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));

describe("$disconnect()", () => {
  const { cluster } = useCluster(1);

  /**
   * Runs a fixture in a child process against the cluster, until it ends by itself. Once it has
   * printed `done` (its last line), whatever still runs is what would keep it alive: it is killed
   * 20 s after that, or 60 s after the start (a busy machine starts tsx and Prisma slowly).
   * `afterDoneMs`: from that line to the exit.
   */
  function runFixture(
    name: string,
    done: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string; afterDoneMs: number | undefined }> {
    const fixture = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
    const child = spawn(tsx, [fixture], {
      env: {
        ...process.env,
        DATABASE_URL: cluster().primaryUrl,
        DATABASE_REPLICA_URLS: cluster().replicaUrls.join(","),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let doneAt: number | undefined;
    const kill = () => child.kill("SIGKILL");
    let timer = setTimeout(kill, 60_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (doneAt === undefined && stdout.includes(done)) {
        doneAt = performance.now();
        clearTimeout(timer);
        timer = setTimeout(kill, 20_000);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    return new Promise((resolve) => {
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, afterDoneMs: doneAt === undefined ? undefined : performance.now() - doneAt });
      });
    });
  }

  it("leaves nothing that keeps the process alive: it exits by itself", async () => {
    const result = await runFixture("exit-after-disconnect.ts", "disconnected");
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("disconnected");
    expect(result.code).toBe(0);
    // Nothing left to wait for: an idle pool client (pg's idleTimeoutMillis: 10 s) would hold it longer.
    expect(result.afterDoneMs).toBeLessThan(5_000);
    // Backends exit a moment after their client is gone.
    const left = async () =>
      (await cluster().primary.query("SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'prisma-split/%'"))
        .length;
    await expect.poll(left, { timeout: 10_000 }).toBe(0);
  }, 90_000);

  it("a process that reuses the client after $disconnect() and disconnects again exits by itself", async () => {
    const result = await runFixture("exit-after-reuse.ts", "disconnected after reuse");
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("disconnected after reuse");
    expect(result.code).toBe(0);
    expect(result.afterDoneMs).toBeLessThan(5_000);
  }, 90_000);
});

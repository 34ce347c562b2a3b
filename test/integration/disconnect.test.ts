import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useCluster } from "./harness.ts";

const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));

describe("$disconnect()", () => {
  const { cluster } = useCluster(1);

  /** Runs a fixture in a child process against the cluster; resolves when it ends by itself (or is killed at 20 s). */
  function runFixture(name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const fixture = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
    return new Promise((resolve) => {
      const child = execFile(
        tsx,
        [fixture],
        {
          env: {
            ...process.env,
            DATABASE_URL: cluster().primaryUrl,
            DATABASE_REPLICA_URLS: cluster().replicaUrls.join(","),
          },
          timeout: 20_000,
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
  }

  it("leaves nothing that keeps the process alive: it exits by itself", async () => {
    const started = Date.now();
    const result = await runFixture("exit-after-disconnect.ts");
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("disconnected");
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const left = await cluster().primary.query(
      "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'prisma-split/%'",
    );
    expect(left).toHaveLength(0);
  });

  it("a process that reuses the client after $disconnect() and disconnects again exits by itself", async () => {
    const result = await runFixture("exit-after-reuse.ts");
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("disconnected after reuse");
    expect(result.code).toBe(0);
  });
});

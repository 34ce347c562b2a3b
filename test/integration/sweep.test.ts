import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startCluster } from "../../src/dev-cluster/index.ts";

/** A cluster whose owner was SIGKILLed (no handler ran) is swept by the next start. */
const fixture = fileURLToPath(new URL("./fixtures/orphan-cluster.ts", import.meta.url));

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
});

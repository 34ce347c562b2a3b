import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const entry = fileURLToPath(new URL("../../src/cli/index.ts", import.meta.url));

describe("prisma-split CLI on a closed pipe (`prisma-split doctor | head -1`)", () => {
  it("stops writing without a crash and keeps its exit code", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", entry, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    // The reader is gone before the CLI writes a byte (tsx alone takes longer to start).
    child.stdout.destroy();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { DEFAULTS } from "../../src/config/defaults.ts";

function sink() {
  let text = "";
  return {
    write(chunk: string) {
      text += chunk;
      return true;
    },
    get text() {
      return text;
    },
  };
}

async function run(args: string[]) {
  const out = sink();
  const err = sink();
  const code = await main(args, out as never, err as never);
  return { code, out: out.text, err: err.text };
}

describe("prisma-split CLI usage", () => {
  it("--help lists every command and exits 0; doctor --help prints doctor's options", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    for (const command of ["doctor", "cluster up", "cluster stop|start|kill <node>", "cluster status"]) {
      expect(result.out).toContain(`  ${command} `);
    }
    const doctor = await run(["doctor", "--help"]);
    expect(doctor.code).toBe(0);
    expect(doctor.out).toContain("Usage: prisma-split doctor");
  });

  it("doctor's default max lag is createDb()'s", async () => {
    expect(DEFAULTS.replicas.maxLagMs).toBe(10_000);
    expect((await run(["doctor", "--help"])).out).toContain("default: 10000");
  });

  it.each([
    [[], "Usage:"],
    [["check"], "Unknown command: check"],
    [["doctor", "--bogus"], "Unknown option '--bogus'"],
    [["doctor", "--instances", "many"], '--instances must be a number, got "many"'],
    [["doctor", "--env-file", "/nonexistent/.env"], "ENOENT"],
  ])("%o exits 2 with a message", async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });
});

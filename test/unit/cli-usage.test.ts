import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";

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
  it("--help prints usage and exits 0", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("Usage: prisma-split doctor");
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

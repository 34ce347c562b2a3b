import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
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

async function run(args: string[], cwd = process.cwd()) {
  const out = sink();
  const err = sink();
  const code = await main(args, out, err, cwd);
  return { code, out: out.text, err: err.text };
}

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

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

  it.each([[["--version"]], [["-v"]], [["doctor", "--version"]], [["--version", "cluster", "status"]]])(
    "%j prints the package's version and exits 0",
    async (args) => {
      expect(await run(args)).toEqual({ code: 0, out: `${version}\n`, err: "" });
    },
  );

  it("takes options before the command as after it", async () => {
    expect((await run(["--help", "doctor"])).out).toContain("Usage: prisma-split doctor");
    const before = await run(["--instances", "many", "doctor"]);
    expect(before.code).toBe(2);
    expect(before.err).toContain('--instances must be a number, got "many"');
    expect((await run(["--env-file", "/nonexistent/.env", "doctor"])).err).toContain("ENOENT");
  });

  it("--help lists the exit codes and the options every command takes", async () => {
    for (const args of [["--help"], ["doctor", "--help"]]) {
      const { out } = await run(args);
      expect(out).toContain("Exit codes:");
      expect(out).toMatch(/^ {2}2 {2}a usage or configuration error/m);
      expect(out).toContain("--env-file <path>");
      expect(out).toContain("-v, --version");
    }
  });
});

describe("prisma-split CLI and .env", () => {
  const saved = { ...process.env };
  const dirs: string[] = [];
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  /** A working directory with these files; nothing listens on ports 1 and 2, so doctor finds the node unreachable. */
  function workdir(files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "prisma-split-cli-"));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
  }

  it("doctor reads DATABASE_URL from .env in the working directory", async () => {
    delete process.env.DATABASE_URL;
    delete process.env.DATABASE_REPLICA_URLS;
    const cwd = workdir({ ".env": "DATABASE_URL=postgresql://app:secret@127.0.0.1:1/app\n" });
    const result = await run(["doctor"], cwd);
    expect(result.code).toBe(1);
    expect(result.out).toContain("postgresql://app:***@127.0.0.1:1/app");
    expect(result.out).not.toContain("secret");
  });

  it("a variable already set in the environment wins over .env; --env-file picks another file", async () => {
    process.env.DATABASE_URL = "postgresql://app@127.0.0.1:2/app";
    delete process.env.DATABASE_REPLICA_URLS;
    const cwd = workdir({
      ".env": "DATABASE_URL=postgresql://app@127.0.0.1:1/app\n",
      "staging.env": "DATABASE_REPLICA_URLS=postgresql://app@127.0.0.1:1/replica\n",
    });
    expect((await run(["doctor"], cwd)).out).toContain("127.0.0.1:2/app");
    const picked = await run(["doctor", "--env-file", "staging.env"], cwd);
    expect(picked.out).toContain("127.0.0.1:1/replica");
  });
});

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../../src/dev-cluster/replication.ts";
import { queryOnce } from "../../src/dev-cluster/sql.ts";
import { createDb } from "../../src/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

/**
 * `prisma-split cluster up`, run the way a user runs it: a separate process, whose printed
 * `.env` lines are all we know of the cluster, stopped with a signal.
 */
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
// The package's bin (dist/cli.js is built from it).
const entry = fileURLToPath(new URL("../../src/cli/index.ts", import.meta.url));
const readyLine = /^Ready\. /m;

interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the status says it is ready and the `.env` lines are out (two pipes: either may come first). */
  ready: () => Promise<void>;
}

const started = new Set<CliRun>();

// A failed assertion must not leave a cluster running: stop the command the way a user would.
afterEach(async () => {
  for (const cli of started) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill("SIGINT");
      const timer = setTimeout(() => cli.child.kill("SIGKILL"), 30_000);
      await cli.exited;
      clearTimeout(timer);
    }
  }
  started.clear();
});

function runCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, ["--import", "tsx", entry, "cluster", ...args], {
    cwd: repoRoot,
    env: { ...process.env, TEST_CLUSTER: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const check of waiters) check();
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    notify();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const describe = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const run: CliRun = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    ready: () =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!readyLine.test(stderr) || !/^DATABASE_REPLICA_URLS=.*\n/m.test(stdout)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
        void exited.then(({ code, signal }) =>
          reject(new Error(`exited (${signal ?? code}) before it was ready\n${describe()}`)),
        );
      }),
  };
  started.add(run);
  return run;
}

/** The values of `NAME=value` lines. */
function envFrom(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split("\n")
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

/** The directory holding the cluster's data dirs, asked from the server itself. */
async function baseDirOf(url: string): Promise<string> {
  const [row] = await queryOnce<{ data_directory: string }>(url, "SHOW data_directory");
  return path.dirname(row?.data_directory as string);
}

function processesMentioning(text: string): string[] {
  return execFileSync("ps", ["-eo", "stat=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(text) && !line.trim().startsWith("Z"));
}

const slow = 90_000;

describe("prisma-split cluster up", () => {
  it(
    "prints .env lines that work (a write on the primary is read on the replica through createDb), and on SIGINT stops everything and exits 0",
    async () => {
      const cli = runCli(["up", "--replicas", "1", "--port", "0"]);
      await cli.ready();
      const env = envFrom(cli.stdout());
      expect(Object.keys(env)).toEqual(["DATABASE_URL", "DATABASE_REPLICA_URLS"]);
      const primaryUrl = env.DATABASE_URL as string;
      const replicaUrls = (env.DATABASE_REPLICA_URLS as string).split(",");
      expect(replicaUrls).toHaveLength(1);
      expect(cli.stderr()).toMatch(/a primary and 1 streaming replica\n/);
      expect(cli.stderr()).toMatch(/replica-0 +127\.0\.0\.1:\d+ +streaming/);
      expect(cli.stderr()).toContain("migrations: 1 applied from prisma/migrations (0001_init)");

      // Real servers behind the printed URLs: a primary, and a standby that has the migrations.
      expect(await queryOnce(primaryUrl, "SELECT pg_is_in_recovery() AS standby")).toEqual([{ standby: false }]);
      const replicaUrl = replicaUrls[0] as string;
      expect(await queryOnce(replicaUrl, "SELECT pg_is_in_recovery() AS standby")).toEqual([{ standby: true }]);
      expect(await queryOnce(replicaUrl, `SELECT migration_name FROM "_prisma_migrations"`)).toEqual([
        { migration_name: "0001_init" },
      ]);

      // What a user does with those lines: createDb() reads them from the environment.
      const db = createDb({ PrismaClient, primaryUrl, replicaUrls });
      try {
        const email = `cli-${process.pid}-${Date.now()}@example.test`;
        await db.user.create({ data: { email } });
        await pollUntil("the new user on the replica", 10_000, async () => {
          return (await queryOnce(replicaUrl, `SELECT 1 FROM "users" WHERE "email" = $1`, [email])).length === 1;
        });
        const [answered] = await db.nodeInfo.findMany();
        expect(answered).toMatchObject({ port: Number(new URL(replicaUrl).port), inRecovery: true });
        expect(await db.user.count({ where: { email } })).toBe(1);
      } finally {
        await db.$disconnect();
      }

      const baseDir = await baseDirOf(primaryUrl);
      expect(existsSync(baseDir)).toBe(true);
      // The control: while it runs, its servers are there to be seen.
      expect(processesMentioning(baseDir).length).toBeGreaterThanOrEqual(2);

      cli.child.kill("SIGINT");
      expect(await cli.exited).toEqual({ code: 0, signal: null });
      // Stopped by the command itself, not by the last-resort exit handler.
      expect(cli.stderr()).toMatch(/SIGINT: stopping the cluster\.\.\.\nStopped; its data is deleted\.\n$/);
      expect(existsSync(baseDir)).toBe(false);
      expect(processesMentioning(baseDir)).toEqual([]);
      await expect(queryOnce(primaryUrl, "SELECT 1")).rejects.toThrow();
    },
    slow,
  );

  it(
    "prints each node's PID and data directory; `cluster kill|start|stop <node>` from another process acts on that node, found without --port",
    async () => {
      // Its own TMPDIR (the control socket lives there): other runs on this machine may have a cluster up too.
      const tmp = mkdtempSync(path.join(os.tmpdir(), "prisma-split-cli-"));
      // The cluster's directory goes there too: the server user (postgres, when run as root) must get in.
      chmodSync(tmp, 0o755);
      const isolated = { TMPDIR: tmp };
      try {
        const cli = runCli(["up", "--replicas", "1", "--port", "0", "--no-migrate"], isolated);
        await cli.ready();
        const env = envFrom(cli.stdout());
        const port = new URL(env.DATABASE_URL as string).port;
        const replicaUrl = env.DATABASE_REPLICA_URLS as string;
        const baseDir = await baseDirOf(env.DATABASE_URL as string);
        const replicaLine = new RegExp(`^ +replica-0 +port \\d+ +pid (\\d+) +${baseDir}/replica-0$`, "m");
        expect(cli.stderr()).toMatch(new RegExp(`^ +primary +port ${port} +pid \\d+ +${baseDir}/primary$`, "m"));
        expect(cli.stderr()).toMatch(replicaLine);

        // --port was given once, to `up`: the others find the cluster running on this machine.
        const kill = runCli(["kill", "replica-0"], isolated);
        expect(await kill.exited).toEqual({ code: 0, signal: null });
        expect(kill.stdout()).toMatch(/^replica-0: killed/);
        expect(kill.stdout()).toMatch(new RegExp(`^ +replica-0 +port \\d+ +stopped +${baseDir}/replica-0$`, "m"));
        await expect(queryOnce(replicaUrl, "SELECT 1")).rejects.toThrow();

        // An option before the subcommand, as after it.
        const start = runCli(["--port", port, "start", "replica-0"], isolated);
        expect(await start.exited).toEqual({ code: 0, signal: null });
        expect(start.stdout()).toMatch(replicaLine);
        expect(await queryOnce(replicaUrl, "SELECT pg_is_in_recovery() AS standby")).toEqual([{ standby: true }]);

        const unknown = runCli(["stop", "replica1"], isolated);
        expect(await unknown.exited).toEqual({ code: 1, signal: null });
        expect(unknown.stderr()).toContain('no node named "replica1": primary, replica-0');

        cli.child.kill("SIGINT");
        expect(await cli.exited).toEqual({ code: 0, signal: null });
        const gone = runCli(["status", "--port", port], isolated);
        expect(await gone.exited).toEqual({ code: 1, signal: null });
        expect(gone.stderr()).toContain(`no \`prisma-split cluster up\` is running with its primary on port ${port}`);
        const none = runCli(["status"], isolated);
        expect(await none.exited).toEqual({ code: 1, signal: null });
        expect(none.stderr()).toContain("no `prisma-split cluster up` is running on this machine.");
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    slow,
  );

  it(
    "--no-migrate applies nothing, and SIGTERM stops it the same way",
    async () => {
      const cli = runCli(["up", "--replicas", "0", "--port", "0", "--no-migrate"]);
      await cli.ready();
      const primaryUrl = envFrom(cli.stdout()).DATABASE_URL as string;
      expect(envFrom(cli.stdout()).DATABASE_REPLICA_URLS).toBe("");
      expect(await queryOnce(primaryUrl, `SELECT to_regclass('"_prisma_migrations"') AS history`)).toEqual([
        { history: null },
      ]);
      const baseDir = await baseDirOf(primaryUrl);

      cli.child.kill("SIGTERM");
      expect(await cli.exited).toEqual({ code: 0, signal: null });
      expect(existsSync(baseDir)).toBe(false);
      expect(processesMentioning(baseDir)).toEqual([]);
    },
    slow,
  );

  it(
    "refuses a --port that is taken, naming it, and exits 1",
    async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      const port = (taken.address() as net.AddressInfo).port;
      try {
        const cli = runCli(["up", "--replicas", "0", "--port", String(port)]);
        expect(await cli.exited).toEqual({ code: 1, signal: null });
        expect(cli.stderr()).toContain(`port ${port} already in use`);
        expect(cli.stdout()).toBe("");
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    },
    slow,
  );

  it(
    "--help prints the usage and exits 0; an unknown option exits 2 with the usage",
    async () => {
      const help = runCli(["up", "--help"]);
      expect(await help.exited).toEqual({ code: 0, signal: null });
      expect(help.stdout()).toMatch(/^Usage: prisma-split cluster up/);

      const bad = runCli(["up", "--replica", "2"]);
      expect(await bad.exited).toEqual({ code: 2, signal: null });
      expect(bad.stderr()).toContain("--replica");
      expect(bad.stderr()).toContain("Usage: prisma-split cluster up");
    },
    slow,
  );
});

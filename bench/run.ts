/**
 * `npm run bench`: one embedded PostgreSQL primary + streaming replica, the scenarios of
 * bench/scenarios run side by side for plain PrismaClient, @prisma/extension-read-replicas and
 * prisma-split, tables on stdout, JSON in bench/results/latest.json. See bench/README.md.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Cluster, startCluster } from "../test/cluster/index.ts";
import { type BaselineBuild, buildBaseline, withBaseline } from "./lib/baseline.ts";
import { type CliOptions, parseCliOptions, USAGE } from "./lib/cli-options.ts";
import { describeEnvironment } from "./lib/environment.ts";
import { loadPrismaSplit } from "./lib/prisma-split.ts";
import type { BenchSettings, Scenario, ScenarioResult } from "./lib/scenario.ts";
import { seed } from "./lib/seed.ts";
import { renderTable } from "./lib/table.ts";
import { SCENARIOS } from "./scenarios/index.ts";

const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
const log = (message: string) => process.stderr.write(`${message}\n`);

let cluster: Cluster | undefined;
let baseline: BaselineBuild | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping the cluster...`);
    baseline?.remove();
    void (cluster?.stop() ?? Promise.resolve()).finally(() => process.kill(process.pid, signal));
  });
}

function selectScenarios(only: readonly string[]): Scenario[] {
  const unknown = only.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  }
  const chosen = SCENARIOS.filter((scenario) => only.length === 0 || only.includes(scenario.name));
  // A disruptive scenario restores the cluster, but the others should not run on a just-restarted one.
  return [...chosen.filter((s) => !s.disruptive), ...chosen.filter((s) => s.disruptive)];
}

interface ScenarioReport {
  readonly name: string;
  readonly title: string;
  readonly seconds: number;
  readonly result?: ScenarioResult;
  readonly error?: string;
}

async function main(options: CliOptions): Promise<number> {
  const selected = selectScenarios(options.only);
  try {
    if (options.baseline !== undefined) baseline = await buildBaseline(options.baseline, log);
    return await runScenarios(selected, options);
  } finally {
    baseline?.remove();
  }
}

/** Why a scenario without `baselineFor` has no baseline row, under its table. */
function noBaselineNote(build: BaselineBuild): string {
  const measured = SCENARIOS.filter((s) => s.baselineFor !== undefined).map((s) => s.name);
  return `--baseline ${build.ref}: no @${build.short} row here; the builds are compared where the cost of a call is measured (${measured.join(", ")}).`;
}

async function runScenarios(selected: readonly Scenario[], options: CliOptions): Promise<number> {
  const scenarios = baseline === undefined ? selected : selected.map((s) => withBaseline(s, baseline as BaselineBuild));
  const settings: BenchSettings = { quick: options.quick, rounds: options.rounds ?? (options.quick ? 3 : 10) };
  if (process.env.NODE_ENV !== "production") log("warning: NODE_ENV is not 'production' (npm run bench sets it)");
  await loadPrismaSplit();
  const environment = describeEnvironment();
  const started = Date.now();

  log("starting a primary and one streaming replica (embedded PostgreSQL)...");
  cluster = await startCluster({ replicas: 1 });
  const reports: ScenarioReport[] = [];
  try {
    await seed(cluster);
    for (const scenario of scenarios) {
      log(`\n== ${scenario.name}: ${scenario.title}`);
      const scenarioStarted = Date.now();
      try {
        let result = await scenario.run({ cluster, settings, log });
        if (baseline !== undefined && scenario.baselineFor === undefined) {
          result = { ...result, notes: [...result.notes, noBaselineNote(baseline)] };
        }
        const seconds = (Date.now() - scenarioStarted) / 1000;
        reports.push({ name: scenario.name, title: scenario.title, seconds, result });
        printResult(result);
      } catch (error) {
        const seconds = (Date.now() - scenarioStarted) / 1000;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        reports.push({ name: scenario.name, title: scenario.title, seconds, error: message });
        log(`${scenario.name} failed: ${message}`);
      }
    }
  } finally {
    await cluster.stop();
  }

  const output = options.out ?? path.join(resultsDir, "latest.json");
  await writeJson(output, {
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    settings,
    command: process.argv.slice(2),
    ...(baseline && { baseline: { ref: baseline.ref, commit: baseline.commit } }),
    environment,
    contenders: Object.fromEntries(
      [...new Map(scenarios.flatMap((s) => s.contenders).map((c) => [c.id, c])).values()].map((c) => [c.id, c.setup]),
    ),
    scenarios: reports.map(({ result, ...report }) => ({
      ...report,
      ...(result && {
        tables: result.tables.map((table) => ({
          title: table.title,
          columns: table.columns.map(({ key, header }) => ({ key, header })),
          rows: table.rows,
        })),
        notes: result.notes,
        raw: result.raw,
      }),
    })),
  });
  log(`\nresults: ${path.relative(process.cwd(), output)} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  return reports.some((report) => report.error !== undefined) ? 1 : 0;
}

function printResult(result: ScenarioResult): void {
  const text = [...result.tables.map(renderTable), ...result.notes.map((note) => `  · ${note}`)].join("\n");
  process.stdout.write(`\n${text}\n`);
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, file);
}

let options: CliOptions;
try {
  options = parseCliOptions(process.argv.slice(2));
} catch (error) {
  log(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  log(USAGE);
} else {
  process.exitCode = await main(options).catch((error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  });
}

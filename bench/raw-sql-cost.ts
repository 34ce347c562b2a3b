/**
 * What routing a raw query costs: the first classification of a SQL text (PostgreSQL's parser,
 * and the catalog for routine names not seen before) and every later one (a cache hit), against
 * the regular-expression check it replaced, read from git (`BEFORE_REF`, default main).
 *
 *   npm run bench:raw-sql                  (ROUNDS=10; BEFORE_REF=main)
 *
 * Starts its own primary + 1 replica (embedded PostgreSQL) for the catalog queries and stops it
 * at the end. Every case runs once per round, the cases in an order rotated each round; the
 * table gives the median over the rounds and its interquartile range. Run it on an idle machine.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createDb } from "../src/index.ts";
import { catalogReader } from "../src/routing/raw-sql/catalog-reader.ts";
import { RawQueryClassifier } from "../src/routing/raw-sql/raw-query-classifier.ts";
import { sqlTextOf } from "../src/routing/raw-sql/sql-text.ts";
import { splitStateOf } from "../src/split-state.ts";
import { startCluster } from "../test/cluster/index.ts";
import { PrismaClient } from "../test/generated/prisma/client.ts";
import { interleaveRounds } from "./lib/interleave.ts";
import { median, quartiles } from "./lib/stats.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const BEFORE_REF = process.env.BEFORE_REF ?? "main";
const HOT_CALLS = 200_000;
const NEW_TEXTS = 200;
const CATALOG_TEXTS = 20;
const PARSER_LOADS = 5;

/** The arguments a tagged `$queryRaw` call hands to prisma-split (a frozen strings array): a typical read. */
function taggedArgs(marker: number): unknown[] {
  const strings = Object.freeze([
    `SELECT u.id, u.email, count(p.id) AS posts /* ${marker} */ FROM users u LEFT JOIN posts p ON p.author_id = u.id
       WHERE u.email LIKE `,
    " AND p.created_at > now() - interval '1 day' GROUP BY u.id ORDER BY posts DESC LIMIT ",
    "",
  ]);
  return [strings, "%@example.test", 10];
}

type Case = { name: string; unit: "ns" | "µs" | "ms"; measure: () => Promise<number> };

async function main(): Promise<void> {
  const cluster = await startCluster({ replicas: 1 });
  const db = createDb({ PrismaClient, primaryUrl: cluster.primaryUrl, replicaUrls: cluster.replicaUrls });
  const temp = mkdtempSync(path.join(os.tmpdir(), "prisma-split-raw-sql-"));
  try {
    await db.$connect();
    const state = splitStateOf(db);
    if (state === undefined) throw new Error("no split state");
    const [primary, ...replicas] = state.nodes;
    const catalog = catalogReader({ primary: primary!, replicas }, state.guards, () => false);

    // One call site: the same strings array on every call, as a tagged template gives.
    const hotArgs = taggedArgs(0);
    const hot = new RawQueryClassifier(catalog);
    await hot.classify(sqlTextOf(hotArgs) as string);
    if (hot.known(sqlTextOf(hotArgs)) !== "read") throw new Error("the bench query should classify as a read");

    const warm = new RawQueryClassifier(catalog);
    await warm.classify(sqlTextOf(taggedArgs(-1)) as string);
    let unique = 0;

    const cases: Case[] = [
      {
        name: "cached: sqlTextOf + known() (every call of a text seen before)",
        unit: "ns",
        measure: async () => timePerCall(HOT_CALLS, () => hot.known(sqlTextOf(hotArgs))) * 1e6,
      },
      {
        name: "first, routine names cached: known() parses and decides synchronously",
        unit: "µs",
        measure: async () => {
          const started = performance.now();
          for (let i = 0; i < NEW_TEXTS; i++) {
            if (warm.known(sqlTextOf(taggedArgs(++unique))) !== "read") throw new Error("expected a read");
          }
          return ((performance.now() - started) / NEW_TEXTS) * 1e3;
        },
      },
      {
        name: "first, new names: parse + one catalog query on the replica",
        unit: "ms",
        measure: async () => {
          const started = performance.now();
          for (let i = 0; i < CATALOG_TEXTS; i++) {
            await new RawQueryClassifier(catalog).classify(sqlTextOf(taggedArgs(++unique)) as string);
          }
          return (performance.now() - started) / CATALOG_TEXTS;
        },
      },
    ];
    const before = await loadBefore(temp);
    if (before !== undefined) {
      cases.push({
        name: `before (${BEFORE_REF}): its sqlTextOf + isReadOnlySql() regular expressions, every call`,
        unit: "ns",
        measure: async () => timePerCall(HOT_CALLS, () => before.isReadOnlySql(before.sqlTextOf(hotArgs) ?? "")) * 1e6,
      });
    }
    for (const one of cases) await one.measure();
    const samples = await interleaveRounds(cases, ROUNDS, (one) => one.measure());
    const loads = Array.from({ length: PARSER_LOADS }, () => parserLoad());

    console.log(`\nRaw query classification, ${ROUNDS} interleaved rounds; median (IQR) over the rounds\n`);
    console.log("| case | per classification |\n|---|---|");
    for (const [index, one] of cases.entries()) {
      console.log(`| ${one.name} | ${summary(samples[index] as number[], one.unit)} |`);
    }
    const fresh = (label: string, pick: (load: ParserLoad) => number, unit = "ms") =>
      console.log(
        `| once per process, fresh node (${PARSER_LOADS} runs): ${label} | ${summary(loads.map(pick), unit)} |`,
      );
    fresh('require("libpg-query") + loadModule() (createDb() starts it, in the background)', (load) => load.loadMs);
    fresh("then the loader's warm-up parse (V8 compiles the WebAssembly on first use)", (load) => load.warmUpMs);
    fresh("then the first raw query's parse", (load) => load.firstParseMs);
    fresh("then the second one's, another statement", (load) => load.secondParseMs);
    fresh("resident memory added once loaded and warmed up", (load) => load.loadedMb - load.startMb, "MB");
    fresh(
      `resident memory added after ${PARSES_IN_CHILD} parses (full GC)`,
      (load) => load.usedMb - load.startMb,
      "MB",
    );
    console.log(
      `\nHot case: ${HOT_CALLS} calls per round of one tagged $queryRaw's arguments. "first" cases: ${NEW_TEXTS} and ${CATALOG_TEXTS} new texts per round (a comment makes each text new); "new names" starts each text with an empty classifier, so its catalog query asks for every function and operator of the text (count, now, ~~, >, -, =).`,
    );
  } finally {
    await db.$disconnect();
    await cluster.stop();
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Mean ms per call of `call` over `calls` calls. */
function timePerCall(calls: number, call: () => unknown): number {
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < calls; i++) if (call() !== undefined) sink++;
  const elapsed = performance.now() - started;
  if (sink < 0) console.log(sink);
  return elapsed / calls;
}

type Before = { isReadOnlySql(sql: string): boolean; sqlTextOf(args: readonly unknown[]): string | undefined };

/** The regular-expression check as it was at BEFORE_REF; undefined when that tree has no such file. */
async function loadBefore(dir: string): Promise<Before | undefined> {
  let source: string;
  try {
    source = execFileSync("git", ["show", `${BEFORE_REF}:src/routing/read-only-sql.ts`], { encoding: "utf8" });
  } catch {
    console.error(`${BEFORE_REF} has no src/routing/read-only-sql.ts: the "before" row is left out`);
    return undefined;
  }
  const file = path.join(dir, "read-only-sql.ts");
  writeFileSync(file, source);
  return (await import(pathToFileURL(file).href)) as Before;
}

interface ParserLoad {
  readonly loadMs: number;
  readonly warmUpMs: number;
  readonly firstParseMs: number;
  readonly secondParseMs: number;
  readonly startMb: number;
  readonly loadedMb: number;
  readonly usedMb: number;
}

const PARSES_IN_CHILD = 10_000;

/**
 * One fresh node process, loading the parser as sql-parser.ts does: loadModule(), then one warm-up
 * parse (V8 compiles the WebAssembly lazily, on first use); then the first two real parses, and
 * its resident memory before, once loaded, and after many parses.
 */
function parserLoad(): ParserLoad {
  const script = `
    const mb = () => (gc(), process.memoryUsage().rss / 1048576);
    const timed = (fn) => { const t = performance.now(); fn(); return performance.now() - t; };
    const sql = (i) => "SELECT a, count(*) FROM t WHERE b LIKE $1 AND c > now() GROUP BY a /* " + i + " */";
    const startMb = mb();
    const t = performance.now();
    const m = require("libpg-query");
    m.loadModule().then(() => {
      const loadMs = performance.now() - t;
      const warmUpMs = timed(() => m.parseSync("SELECT 1"));
      const loadedMb = mb();
      const firstParseMs = timed(() => m.parseSync(sql(0)));
      const secondParseMs = timed(() => m.parseSync("SELECT inet_server_port() AS port"));
      for (let i = 1; i < ${PARSES_IN_CHILD}; i++) m.parseSync(sql(i));
      console.log(JSON.stringify({ loadMs, warmUpMs, firstParseMs, secondParseMs, startMb, loadedMb, usedMb: mb() }));
    });`;
  const run = spawnSync(process.execPath, ["--expose-gc", "-e", script], { encoding: "utf8", cwd: process.cwd() });
  if (run.status !== 0) throw new Error(`parser load failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim()) as ParserLoad;
}

function summary(values: number[], unit: string): string {
  const [q1, q3] = quartiles(values);
  const digits = unit === "ns" ? 0 : unit === "ms" ? 2 : 1;
  return `${median(values).toFixed(digits)} ${unit} (${q1.toFixed(digits)}–${q3.toFixed(digits)})`;
}

await main();

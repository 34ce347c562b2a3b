import { PrismaPg } from "@prisma/adapter-pg";
import { readReplicas } from "@prisma/extension-read-replicas";
import { PrismaClient } from "../../test/generated/prisma/client.ts";
import { describeError } from "../lib/cluster-state.ts";
import { type BenchClient, type Contender, type ContenderSpec, closeContenders, POOL_MAX } from "../lib/contenders.ts";
import { formatFixed, formatInteger } from "../lib/format.ts";
import { interleaveRounds } from "../lib/interleave.ts";
import { type RoundSample, runOps } from "../lib/measure.ts";
import { loadPrismaSplit } from "../lib/prisma-split.ts";
import type { Column, Row, Scenario, ScenarioContext } from "../lib/scenario.ts";
import { seededId } from "../lib/seed.ts";
import { type SlowProxies, startSlowProxies } from "../lib/slow-proxies.ts";
import { median, percentile } from "../lib/stats.ts";

/**
 * Issue 12's tail scenario: two replicas, one of them slowed by a TCP proxy (a fixed delay on
 * every answer, or 1 % of answers stalled for 200 ms). Both "replicas" are the cluster's one
 * streaming replica, reached through two proxies in a child process: what differs is the path,
 * exactly what a proxy can make slow; the healthy path goes through a proxy too, so both pay the
 * same extra hop.
 */

/** The URLs a contender reads from: the healthy path first, then the one the case slows down. */
interface Paths {
  readonly primaryUrl: string;
  readonly fast: string;
  readonly slow: string;
}

interface TailContender extends Contender {
  /** Hedges sent so far (prisma-split's `hedge` events); undefined where there is no hedging. */
  hedges?: () => number;
  /** Replica reads so far and how many of them ran on the slowed path (prisma-split's `query` events). */
  replicaReads?: () => { all: number; slowed: number };
}

interface TailSpec extends ContenderSpec {
  createOn(paths: Paths): Promise<TailContender>;
}

/**
 * `findFirst` by id, not `findUnique`: Prisma batches the `findUnique`s of one tick on one client
 * into one statement, so with 16 callers a contender that sends every read through one client
 * would win by batching, not by routing; and a hedged `findUnique`'s loser is never cancelled.
 */
const readById = (client: BenchClient, index: number) => client.user.findFirst({ where: { id: seededId(index) } });

function plainOnFastPath(): TailSpec {
  return {
    id: "prisma",
    label: "PrismaClient (healthy path)",
    setup: `new PrismaClient({ adapter: new PrismaPg({ connectionString, max: ${POOL_MAX} }) }) on the healthy path only: what a client that knew which replica is slow would get`,
    create: () => Promise.reject(new Error("slow-replica creates its contenders with createOn()")),
    async createOn(paths) {
      const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: paths.fast, max: POOL_MAX }) });
      return { id: this.id, label: this.label, client, close: () => client.$disconnect() };
    },
  };
}

function officialOnBoth(): TailSpec {
  return {
    id: "extension",
    label: "read-replicas 0.5",
    setup: `@prisma/extension-read-replicas 0.5 with replicas: [healthy, slowed] (it picks one at random per query), pools max ${POOL_MAX}`,
    create: () => Promise.reject(new Error("slow-replica creates its contenders with createOn()")),
    async createOn(paths) {
      const replicas = [paths.fast, paths.slow].map(
        (url) => new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: POOL_MAX }) }),
      );
      const client = new PrismaClient({
        adapter: new PrismaPg({ connectionString: paths.primaryUrl, max: POOL_MAX }),
      }).$extends(readReplicas({ replicas: replicas as never[] }));
      return {
        id: this.id,
        label: this.label,
        client: client as unknown as BenchClient,
        close: () => client.$disconnect(),
      };
    },
  };
}

function splitWith(id: ContenderSpec["id"], label: string, replicas: Record<string, unknown>): TailSpec {
  return {
    id,
    label,
    setup: `createDb({ PrismaClient, primaryUrl, replicaUrls: [healthy, slowed], replicas: ${JSON.stringify(replicas)} }) from dist/, other options default (pools max ${POOL_MAX})`,
    create: () => Promise.reject(new Error("slow-replica creates its contenders with createOn()")),
    async createOn(paths) {
      const { createDb } = await loadPrismaSplit();
      const db = createDb({
        PrismaClient,
        primaryUrl: paths.primaryUrl,
        replicaUrls: [paths.fast, paths.slow],
        replicas,
      });
      let hedges = 0;
      db.$events.on("hedge", () => {
        hedges++;
      });
      // replicaUrls[1] is the slowed path. Metrics are on by default, so a query listener is there anyway.
      const reads = { all: 0, slowed: 0 };
      db.$events.on("query", (event) => {
        if (event.role !== "replica") return;
        reads.all++;
        if (event.node === "replica-1") reads.slowed++;
      });
      return {
        id: this.id,
        label: this.label,
        client: db as unknown as BenchClient,
        hedges: "hedge" in replicas ? () => hedges : undefined,
        replicaReads: () => ({ ...reads }),
        close: () => db.$disconnect(),
      };
    },
  };
}

const SPECS: readonly TailSpec[] = [
  plainOnFastPath(),
  officialOnBoth(),
  splitWith("split", "prisma-split round-robin", { select: "round-robin" }),
  splitWith("split-fastest", "prisma-split fastest", { select: "fastest" }),
  splitWith("split-fastest-hedge", "prisma-split fastest + hedge", { select: "fastest", hedge: {} }),
];

interface TailCase {
  readonly name: string;
  readonly slowness: { delayMs?: number; stallRatio?: number; stallMs?: number };
}

const CASES: readonly TailCase[] = [
  { name: "both healthy", slowness: {} },
  { name: "one replica +5 ms", slowness: { delayMs: 5 } },
  { name: "one replica: 1 % stalls of 200 ms", slowness: { stallRatio: 0.01, stallMs: 200 } },
];

const COLUMNS: readonly Column[] = [
  { key: "case", header: "case", align: "left", group: true },
  { key: "contender", header: "contender", align: "left" },
  { key: "opsPerSecond", header: "ops/s", format: (v) => formatInteger(v) },
  { key: "p50Ms", header: "p50 ms", format: (v) => formatFixed(v, 2) },
  { key: "p99Ms", header: "p99 ms", format: (v) => formatFixed(v, 2) },
  { key: "p999Ms", header: "p999 ms", format: (v) => formatFixed(v, 2) },
  { key: "p99VsHealthy", header: "p99 ÷ healthy", format: (v) => formatFixed(v, 2) },
  { key: "p99VsPlain", header: "p99 ÷ plain, same case", format: (v) => formatFixed(v, 2) },
  { key: "onSlowed", header: "on slowed", align: "right" },
  { key: "extraReads", header: "extra reads", align: "right" },
];

const CONCURRENCY = 16;

interface Measured {
  readonly samples: RoundSample[];
  readonly hedges: number;
  /** Share of its replica reads that ran on the slowed path; undefined where it is not observable. */
  readonly onSlowed: number | undefined;
}

/** Runs one case, interleaved; percentiles over every call of every round (p999 needs them all). */
async function measureCase(
  contenders: readonly TailContender[],
  ops: number,
  rounds: number,
  context: ScenarioContext,
  name: string,
): Promise<Map<TailContender, Measured | { error: string }>> {
  const results = new Map<TailContender, Measured | { error: string }>();
  const failed = new Set<TailContender>();
  const run = async (contender: TailContender, count: number): Promise<RoundSample | undefined> => {
    if (failed.has(contender)) return undefined;
    try {
      return await runOps((index) => readById(contender.client, index), count, CONCURRENCY);
    } catch (error) {
      failed.add(contender);
      const message = error instanceof Error ? error.message.replace(/\s+/g, " ").slice(0, 300) : "";
      results.set(contender, { error: `${describeError(error)}: ${message}` });
      context.log(`  ${name} · ${contender.label} failed, out of this case: ${describeError(error)}`);
      return undefined;
    }
  };
  // Warm-up: connections, JIT, and each selector's view of the paths as they are now.
  for (const contender of contenders) await run(contender, Math.min(ops, 2000));
  const hedgesBefore = new Map(contenders.map((contender) => [contender, contender.hedges?.() ?? 0]));
  const readsBefore = new Map(contenders.map((contender) => [contender, contender.replicaReads?.()]));
  const samples = await interleaveRounds(contenders, rounds, async (contender, round) => {
    const sample = await run(contender, ops);
    if (sample !== undefined) {
      const rate = Math.round(sample.ops / (sample.elapsedMs / 1000));
      context.log(`  ${name} · round ${round + 1}/${rounds} · ${contender.label}: ${formatInteger(rate)} ops/s`);
    }
    return sample;
  });
  contenders.forEach((contender, index) => {
    if (failed.has(contender)) return;
    const hedges = (contender.hedges?.() ?? 0) - (hedgesBefore.get(contender) ?? 0);
    const before = readsBefore.get(contender);
    const after = contender.replicaReads?.();
    const onSlowed =
      before === undefined || after === undefined || after.all === before.all
        ? undefined
        : (after.slowed - before.slowed) / (after.all - before.all);
    results.set(contender, { samples: samples[index] as RoundSample[], hedges, onSlowed });
  });
  return results;
}

function pooled(samples: readonly RoundSample[]): Float64Array {
  const all = new Float64Array(samples.reduce((sum, sample) => sum + sample.latenciesMs.length, 0));
  let offset = 0;
  for (const sample of samples) {
    all.set(sample.latenciesMs, offset);
    offset += sample.latenciesMs.length;
  }
  return all;
}

const slowReplica: Scenario = {
  name: "slow-replica",
  title: "Tail latency, 16 callers: two replicas, one slowed by a TCP proxy (findFirst by id)",
  contenders: SPECS,
  async run(context) {
    const { cluster, settings } = context;
    const ops = settings.quick ? 1500 : 4000;
    const rounds = settings.rounds;
    const replicaUrl = cluster.replicaUrls[0] as string;
    const replicaPort = Number(new URL(replicaUrl).port);
    const proxies: SlowProxies = await startSlowProxies([replicaPort, replicaPort]);
    const contenders: TailContender[] = [];
    try {
      const paths: Paths = {
        primaryUrl: cluster.primaryUrl,
        fast: proxies.urlFor(0, replicaUrl),
        slow: proxies.urlFor(1, replicaUrl),
      };
      for (const spec of SPECS) contenders.push(await spec.createOn(paths));
      const rows: Row[] = [];
      const raw: Record<string, unknown> = {};
      const healthyP99 = new Map<TailContender, number>();
      const byCase = new Map<string, Map<TailContender, { p99: number; p999: number; extra: number }>>();
      const failures: string[] = [];
      for (const testCase of CASES) {
        await proxies.set(1, testCase.slowness);
        const stallsBefore = (await proxies.stalls())[1] ?? 0;
        context.log(`${testCase.name}: warm-up, then ${rounds} rounds × ${ops} ops, ${CONCURRENCY} callers`);
        const results = await measureCase(contenders, ops, rounds, context, testCase.name);
        const stalls = ((await proxies.stalls())[1] ?? 0) - stallsBefore;
        const summary = new Map<TailContender, { p99: number; p999: number; extra: number }>();
        const plainResult = results.get(contenders[0] as TailContender);
        const plainP99 =
          plainResult === undefined || "error" in plainResult
            ? Number.NaN
            : percentile(pooled(plainResult.samples), 99);
        for (const contender of contenders) {
          const result = results.get(contender);
          if (result === undefined || "error" in result) {
            rows.push({ case: testCase.name, contender: contender.label, extraReads: "failed" });
            if (result !== undefined) failures.push(`${contender.label}, ${testCase.name}: ${result.error}`);
            raw[`${testCase.name}/${contender.id}`] = result;
            continue;
          }
          const latencies = pooled(result.samples);
          const p99 = percentile(latencies, 99);
          const p999 = percentile(latencies, 99.9);
          const calls = latencies.length;
          if (testCase.slowness.delayMs === undefined && testCase.slowness.stallRatio === undefined) {
            healthyP99.set(contender, p99);
          }
          const extra = result.hedges / calls;
          summary.set(contender, { p99, p999, extra });
          rows.push({
            case: testCase.name,
            contender: contender.label,
            opsPerSecond: median(result.samples.map((sample) => sample.ops / (sample.elapsedMs / 1000))),
            p50Ms: percentile(latencies, 50),
            p99Ms: p99,
            p999Ms: p999,
            p99VsHealthy: p99 / (healthyP99.get(contender) ?? Number.NaN),
            p99VsPlain: p99 / plainP99,
            onSlowed: result.onSlowed === undefined ? "" : `${formatFixed(result.onSlowed * 100, 1)} %`,
            extraReads: contender.hedges === undefined ? "" : `${formatFixed(extra * 100, 1)} %`,
          });
          raw[`${testCase.name}/${contender.id}`] = {
            opsPerSecond: result.samples.map((sample) => Math.round(sample.ops / (sample.elapsedMs / 1000))),
            p50Ms: percentile(latencies, 50),
            p99Ms: p99,
            p999Ms: p999,
            hedges: result.hedges,
            onSlowed: result.onSlowed,
            calls,
          };
        }
        raw[`${testCase.name}/proxyStalls`] = stalls;
        byCase.set(testCase.name, summary);
      }
      return {
        tables: [{ title: this.title, columns: COLUMNS, rows }],
        notes: [...targetNotes(contenders, byCase), ...failures],
        raw,
      };
    } finally {
      await closeContenders(contenders);
      await proxies.close();
    }
  },
};

/** Issue 12's targets, computed from the table. */
function targetNotes(
  contenders: readonly TailContender[],
  byCase: Map<string, Map<TailContender, { p99: number; p999: number; extra: number }>>,
): string[] {
  const [healthy, delayed, stalled] = CASES.map((testCase) => byCase.get(testCase.name));
  const find = (id: string) => contenders.find((contender) => contender.id === id) as TailContender;
  const [roundRobin, fastest, hedged] = [find("split"), find("split-fastest"), find("split-fastest-hedge")];
  const notes = [
    "Both replicas are the cluster's one streaming replica behind two TCP proxies (a child process); the second proxy slows its answers. Percentiles are over every call of every round; p99 ÷ healthy: the contender's p99 in this case over its own p99 with both paths healthy (the cases run one after the other, so a change in the machine's load between them moves it); p99 ÷ plain, same case: over plain PrismaClient's on the healthy path in the same interleaved rounds, which the load moves alike.",
    "on slowed: the share of prisma-split's replica queries (a hedge's included) that ran on the slowed path, from its query events; the extension picks at random, half of its reads.",
    "extra reads: hedges sent ÷ calls (replicas.hedge {} = p95 delay, maxExtraRatio 0.1); the losing attempt's statement is cancelled on its server if it runs 50 ms past the win. The operation is findFirst by id: Prisma would batch concurrent findUniques of one client into one statement, which favours whoever uses fewer clients.",
  ];
  const fastestDelayed = delayed?.get(fastest)?.p99;
  const fastestHealthy = healthy?.get(fastest)?.p99;
  if (fastestDelayed !== undefined && fastestHealthy !== undefined) {
    notes.push(
      `Target (fastest, one replica +5 ms): p99 ≤ 1.2 × the healthy cluster's: ${formatFixed(fastestDelayed / fastestHealthy, 2)} ×; round-robin: ${formatFixed((delayed?.get(roundRobin)?.p99 ?? Number.NaN) / (healthy?.get(roundRobin)?.p99 ?? Number.NaN), 2)} ×.`,
    );
  }
  const withHedge = stalled?.get(hedged);
  const withoutHedge = stalled?.get(fastest);
  if (withHedge !== undefined && withoutHedge !== undefined) {
    notes.push(
      `Target (1 % stalls): p999 cut ≥ 5 × by hedging at ≤ 10 % extra reads: fastest ÷ fastest + hedge = ${formatFixed(withoutHedge.p999 / withHedge.p999, 2)} ×, round-robin ÷ fastest + hedge = ${formatFixed((stalled?.get(roundRobin)?.p999 ?? Number.NaN) / withHedge.p999, 2)} ×, at ${formatFixed(withHedge.extra * 100, 1)} % extra reads.`,
    );
  }
  return notes;
}

export default slowReplica;

import { setTimeout as sleep } from "node:timers/promises";
import { describeError, restoreCluster } from "../lib/cluster-state.ts";
import { ALL_CONTENDERS, type Contender, closeContenders, createContenders } from "../lib/contenders.ts";
import { formatFixed, formatInteger } from "../lib/format.ts";
import { interleaveRounds } from "../lib/interleave.ts";
import { runOps } from "../lib/measure.ts";
import type { Column, Scenario, ScenarioContext } from "../lib/scenario.ts";
import { seededId } from "../lib/seed.ts";
import { median, percentile } from "../lib/stats.ts";

const READERS = 16;
const STEADY_MS = 1000;
const WINDOW_MS = 5000;
/** Readers still stuck this long after the window are abandoned (and reported). */
const DRAIN_LIMIT_MS = 15_000;

interface Call {
  /** When it settled (performance.now()). */
  readonly endedAt: number;
  readonly ms: number;
  readonly error?: string;
}

interface Window {
  readonly reads: number;
  readonly failed: number;
  readonly p99Ms: number;
  readonly p99OkMs: number;
  readonly steadyP99Ms: number;
  readonly stuck: number;
  readonly errors: string[];
}

const COLUMNS: readonly Column[] = [
  { key: "contender", header: "contender", align: "left" },
  { key: "reads", header: "reads in 5 s", format: formatInteger },
  { key: "failed", header: "failed", format: formatInteger },
  { key: "failedShare", header: "failed %", format: (v) => formatFixed(typeof v === "number" ? v * 100 : v, 1) },
  { key: "p99Ms", header: "p99 ms", format: (v) => formatFixed(v, 2) },
  { key: "p99OkMs", header: "p99 ok ms", format: (v) => formatFixed(v, 2) },
  { key: "steadyP99Ms", header: "p99 before", format: (v) => formatFixed(v, 2) },
  { key: "error", header: "error the caller sees", align: "left" },
];

/**
 * Scenario 4: 16 callers read on; the replica is killed (immediate shutdown, sockets drop); what
 * the callers get during the next 5 s. One kill per contender per round, replica restarted and
 * caught up in between, so each contender meets the same fault alone.
 */
const replicaKilled: Scenario = {
  name: "replica-killed",
  title: `Replica killed under ${READERS} concurrent findUnique callers: the ${WINDOW_MS / 1000} s after the kill`,
  contenders: ALL_CONTENDERS,
  disruptive: true,
  async run(context) {
    const { cluster, settings, log } = context;
    const rounds = settings.quick ? 1 : 2;
    const contenders = await createContenders(this.contenders, {
      primaryUrl: cluster.primaryUrl,
      replicaUrl: cluster.replicaUrls[0] as string,
      workload: "reads",
      driver: "postgres",
    });
    try {
      const windows = await interleaveRounds(contenders, rounds, async (contender, round) => {
        const window = await killUnderLoad(context, contender);
        log(`  round ${round + 1}/${rounds} · ${contender.label}: ${window.failed}/${window.reads} reads failed`);
        return window;
      });
      const rows = contenders.map((contender, index) => {
        const own = windows[index] as Window[];
        const reads = median(own.map((w) => w.reads));
        const failed = median(own.map((w) => w.failed));
        return {
          contender: contender.label,
          reads,
          failed,
          failedShare: median(own.map((w) => (w.reads === 0 ? Number.NaN : w.failed / w.reads))),
          p99Ms: median(own.map((w) => w.p99Ms)),
          p99OkMs: median(own.map((w) => w.p99OkMs)),
          steadyP99Ms: median(own.map((w) => w.steadyP99Ms)),
          error: [...new Set(own.flatMap((w) => w.errors))].join(" | ") || "none",
        };
      });
      const stuck = windows.flat().reduce((sum, w) => sum + w.stuck, 0);
      return {
        tables: [{ title: this.title, columns: COLUMNS, rows }],
        notes: [
          `${rounds} kill(s) per contender, interleaved; medians over them. Counted: reads that settled within ${WINDOW_MS / 1000} s of the kill. p99 = all of them, p99 ok = the successful ones, p99 before = the second before the kill.`,
          "A failing read returns at once (refused connection) and its caller reads again, so 'reads in 5 s' is high where most of them fail: compare 'failed', not throughput.",
          ...(stuck > 0
            ? [`${stuck} read(s) were still pending ${DRAIN_LIMIT_MS / 1000} s after a window and were abandoned.`]
            : []),
        ],
        raw: Object.fromEntries(contenders.map((c, i) => [c.id, windows[i]])),
      };
    } finally {
      await closeContenders(contenders);
      await restoreCluster(cluster);
    }
  },
};

async function killUnderLoad(context: ScenarioContext, contender: Contender): Promise<Window> {
  const { cluster } = context;
  const replica = cluster.replicas[0];
  if (replica === undefined) throw new Error("replica-killed needs a replica");
  await restoreCluster(cluster);
  const read = (index: number) => contender.client.user.findUnique({ where: { id: seededId(index) } });
  // Reconnects the pool after the previous round's kill; a contender that still fails here is warmed best-effort.
  await runOps(read, 500, READERS).catch(() => {});

  const calls: Call[] = [];
  let running = true;
  let pending = 0;
  let index = 0;
  const reader = async () => {
    while (running) {
      const started = performance.now();
      pending++;
      try {
        await read(index++);
        const ended = performance.now();
        calls.push({ endedAt: ended, ms: ended - started });
      } catch (error) {
        const ended = performance.now();
        calls.push({ endedAt: ended, ms: ended - started, error: describeError(error) });
      } finally {
        pending--;
      }
    }
  };
  const readers = Array.from({ length: READERS }, reader);
  await sleep(STEADY_MS);
  const killAt = performance.now();
  await replica.kill();
  await sleep(Math.max(0, killAt + WINDOW_MS - performance.now()));
  running = false;
  await Promise.race([Promise.all(readers), sleep(DRAIN_LIMIT_MS)]);

  const before = calls.filter(
    (call) => call.endedAt >= killAt - STEADY_MS && call.endedAt < killAt && call.error === undefined,
  );
  const after = calls.filter((call) => call.endedAt >= killAt && call.endedAt < killAt + WINDOW_MS);
  const ok = after.filter((call) => call.error === undefined);
  return {
    reads: after.length,
    failed: after.length - ok.length,
    p99Ms: percentile(
      after.map((call) => call.ms),
      99,
    ),
    p99OkMs: percentile(
      ok.map((call) => call.ms),
      99,
    ),
    steadyP99Ms: percentile(
      before.map((call) => call.ms),
      99,
    ),
    stuck: pending,
    errors: [...new Set(after.flatMap((call) => (call.error === undefined ? [] : [call.error])))],
  };
}

export default replicaKilled;

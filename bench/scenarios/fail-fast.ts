import { describeError, restoreCluster } from "../lib/cluster-state.ts";
import { ALL_CONTENDERS, closeContenders, createContenders, prismaSplit } from "../lib/contenders.ts";
import { formatFixed, formatInteger } from "../lib/format.ts";
import { interleaveRounds } from "../lib/interleave.ts";
import type { Column, Scenario } from "../lib/scenario.ts";
import { median, percentile } from "../lib/stats.ts";

/** A call that neither fails nor succeeds within this is counted as timed out (and abandoned). */
const ATTEMPT_LIMIT_MS = 15_000;

interface Attempt {
  readonly ms: number;
  readonly outcome: "failed" | "succeeded" | "timed-out";
  readonly error?: string;
}

/** What prisma-split reported on `$events` while a call ran: why its first call is slower than the rest. */
interface SplitTrail {
  retries: number;
  breakerOpened: boolean;
  /** What the retried attempts failed with. */
  retriedAfter: Set<string>;
}

type Events = { on(name: string, listener: (...args: unknown[]) => void): unknown };

/** prisma-split's events, counted while `watch` is set; undefined for a client without `$events`. */
function trailOf(client: unknown): { start(): void; stop(): SplitTrail } | undefined {
  const events = (client as { $events?: Events }).$events;
  if (events === undefined) return undefined;
  let current: SplitTrail | undefined;
  events.on("retry", (event) => {
    if (!current) return;
    current.retries++;
    current.retriedAfter.add(describeError((event as { error: unknown }).error));
  });
  events.on("breaker:open", () => {
    if (current) current.breakerOpened = true;
  });
  return {
    start: () => {
      current = { retries: 0, breakerOpened: false, retriedAfter: new Set() };
    },
    stop: () => {
      const trail = current ?? { retries: 0, breakerOpened: false, retriedAfter: new Set<string>() };
      current = undefined;
      return trail;
    },
  };
}

/** Why the first call took what it took: the refused write's safe retries, the breaker opening. */
function describeFirst(first: Attempt | undefined, trail: SplitTrail | undefined): string {
  if (first === undefined) return "";
  if (trail === undefined) return `one attempt: ${first.error ?? first.outcome}`;
  const tries = trail.retries + 1;
  const opened = trail.breakerOpened ? "; the breaker opened, so later calls fail at once" : "";
  return trail.retries === 0
    ? `one attempt${opened}`
    : `${tries} attempts, retried after ${[...trail.retriedAfter].join(", ")}: a write refused before it was sent is safe to retry (async-retry's back-off between them)${opened}`;
}

const COLUMNS: readonly Column[] = [
  { key: "contender", header: "contender", align: "left" },
  { key: "attempts", header: "attempts", format: formatInteger },
  { key: "failed", header: "failed", format: formatInteger },
  { key: "firstMs", header: "1st call ms", format: (v) => formatFixed(v, 2) },
  { key: "medianMs", header: "median ms", format: (v) => formatFixed(v, 3) },
  { key: "p99Ms", header: "p99 ms", format: (v) => formatFixed(v, 3) },
  { key: "maxMs", header: "max ms", format: (v) => formatFixed(v, 2) },
  { key: "firstWhy", header: "1st call: what took the time", align: "left" },
  { key: "error", header: "error the caller sees", align: "left" },
];

let written = 0;

/**
 * Scenario 3: the primary is down (killed: no shutdown checkpoint, sockets drop); how long a
 * write takes to fail, and with what. Pools are warm before the kill, as in a running app.
 */
const failFast: Scenario = {
  name: "fail-fast",
  title: "Fail-fast: user.create() with the primary killed, time to error",
  contenders: ALL_CONTENDERS,
  disruptive: true,
  async run(context) {
    const { cluster, settings, log } = context;
    const attemptsPerRound = settings.quick ? 20 : 50;
    const rounds = settings.rounds;
    const contenders = await createContenders(this.contenders, {
      primaryUrl: cluster.primaryUrl,
      replicaUrl: cluster.replicaUrls[0] as string,
      workload: "writes",
      driver: "postgres",
    });
    const write = (client: (typeof contenders)[number]["client"]) => {
      written += 1;
      return client.user.create({ data: { email: `ff${written}-${Date.now()}@bench.test` } });
    };
    try {
      for (const contender of contenders) for (let i = 0; i < 50; i++) await write(contender.client);
      const trails = contenders.map((contender) => trailOf(contender.client));
      const firstTrails = new Map<number, SplitTrail>();
      log("killing the primary");
      await cluster.primary.kill();
      const samples = await interleaveRounds(contenders, rounds, async (contender, round) => {
        const attempts: Attempt[] = [];
        const index = contenders.indexOf(contender);
        const trail = trails[index];
        for (let i = 0; i < attemptsPerRound; i++) {
          const first = round === 0 && i === 0;
          if (first) trail?.start();
          attempts.push(await attempt(() => write(contender.client)));
          if (first && trail) firstTrails.set(index, trail.stop());
        }
        const failed = attempts.filter((a) => a.outcome === "failed").length;
        log(`  round ${round + 1}/${rounds} · ${contender.label}: ${failed}/${attempts.length} failed`);
        return attempts;
      });
      const rows = contenders.map((contender, index) => {
        const attempts = (samples[index] as Attempt[][]).flat();
        const times = attempts.map((a) => a.ms);
        const errors = [...new Set(attempts.flatMap((a) => (a.error === undefined ? [] : [a.error])))];
        return {
          contender: contender.label,
          attempts: attempts.length,
          failed: attempts.filter((a) => a.outcome === "failed").length,
          firstMs: attempts[0]?.ms ?? null,
          medianMs: median(times),
          p99Ms: percentile(times, 99),
          maxMs: Math.max(...times),
          firstWhy: describeFirst(attempts[0], firstTrails.get(index)),
          error: errors.join(" | ") || "none",
        };
      });
      return {
        tables: [{ title: this.title, columns: COLUMNS, rows }],
        notes: [
          `${rounds} rounds × ${attemptsPerRound} sequential attempts per contender, interleaved; 1st call = the first attempt after the kill (pool connections were warm). Read the 1st call beside the median: the median is what a caller meets once the breaker is open; the first caller (one per node and breaker reset) waits for the retries.`,
          "On loopback a dead port refuses at once, so every contender fails fast here; a host that drops packets instead (a failed-over cloud node) makes a driver wait for its connect timeout, which is what a breaker avoids.",
          ...breakerNote(rows.find((row) => row.contender === prismaSplit.label)?.error),
        ],
        raw: Object.fromEntries(contenders.map((c, i) => [c.id, samples[i]?.map((round) => round.map((a) => a.ms))])),
      };
    } finally {
      await closeContenders(contenders);
      log("restarting the primary");
      await restoreCluster(cluster);
    }
  },
};

/** Says so when prisma-split's errors were not its breaker's: then its time is the driver's, like the peers'. */
function breakerNote(errors: string | undefined): string[] {
  if (errors === undefined || errors.includes("breaker-open")) return [];
  return [
    "prisma-split answered no breaker-open error in this run (no circuit breaker in this build, or it did not open): its time is pg's refused connection, as for the peers.",
  ];
}

async function attempt(call: () => PromiseLike<unknown>): Promise<Attempt> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<"timed-out">((resolve) => {
    timer = setTimeout(() => resolve("timed-out"), ATTEMPT_LIMIT_MS).unref();
  });
  try {
    const result = await Promise.race([Promise.resolve(call()).then(() => "succeeded" as const), limit]);
    return { ms: performance.now() - started, outcome: result };
  } catch (error) {
    return { ms: performance.now() - started, outcome: "failed", error: describeError(error) };
  } finally {
    clearTimeout(timer);
  }
}

export default failFast;

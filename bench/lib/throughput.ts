import { pairedRatio } from "./baseline.ts";
import { describeError } from "./cluster-state.ts";
import type { BenchClient, Contender } from "./contenders.ts";
import { formatInteger, formatSpread } from "./format.ts";
import { interleaveRounds } from "./interleave.ts";
import { type Operation, type RoundSample, runOps } from "./measure.ts";
import type { Column, Row } from "./scenario.ts";
import { median, percentile, quartiles } from "./stats.ts";

/** One measured workload of a throughput scenario, e.g. `findUnique`, 16 callers. */
export interface ThroughputCase {
  readonly name: string;
  /** Operations per contender per round. */
  readonly ops: number;
  readonly concurrency: number;
  /** Operations per contender before the first round (JIT, pool connections, plan caches). */
  readonly warmupOps: number;
  readonly operation: (client: BenchClient, index: number) => PromiseLike<unknown>;
}

export interface ThroughputOutcome {
  readonly rows: Row[];
  /** Per contender: throughput of each round (ops/s), in round order; or why it could not be measured. */
  readonly raw: Record<
    string,
    { opsPerSecond: number[]; p50Ms: number[]; p99Ms: number[]; cpuMicrosPerOp: number[] } | { error: string }
  >;
  /** One line per contender that failed the case (its row shows `—`), for the scenario's notes. */
  readonly notes: string[];
}

/**
 * Every headline cell is the median over the rounds with its interquartile range, each rounded to
 * what the IQR allows (`formatSpread`): `1.1 (0.97–1.24)`, not `1.083`. The JSON rows keep the
 * unrounded medians and quartiles (`ratio`, `ratioQ1`, ...).
 */
export const THROUGHPUT_COLUMNS: readonly Column[] = [
  { key: "case", header: "case", align: "left", group: true },
  { key: "contender", header: "contender", align: "left" },
  { key: "opsShown", header: "ops/s (IQR)", align: "left" },
  { key: "p50Shown", header: "p50 ms (IQR)", align: "left" },
  { key: "p99Shown", header: "p99 ms (IQR)", align: "left" },
  { key: "ratioShown", header: "× time/op (IQR)", align: "left" },
  { key: "cpuShown", header: "CPU µs/op (IQR)", align: "left" },
  { key: "cpuRatioShown", header: "× CPU (IQR)", align: "left" },
];

/** Median, quartiles and the printed form of per-round values. */
function spreadOf(values: readonly number[], fallbackStep: number) {
  const [q1, q3] = quartiles(values);
  const middle = median(values);
  return { median: middle, q1, q3, shown: formatSpread(middle, q1, q3, fallbackStep) };
}

/**
 * Runs one case for every contender, interleaved. Ratios are per round (a contender against the
 * baseline — the first contender — measured in the same round), then the median of the rounds:
 * time per operation, so 1.05 means 5 % slower than the baseline and below 1 faster; the same for
 * this process's CPU time per operation (the client side's cost, less disturbed by neighbours).
 *
 * A call that fails takes its contender out of the case (a throughput of failed calls means
 * nothing): its row shows `—` and a note says what failed; the others are still measured. A
 * failing baseline fails the case, since every ratio needs it.
 */
export async function measureThroughput(
  contenders: readonly Contender[],
  testCase: ThroughputCase,
  rounds: number,
  log: (message: string) => void,
): Promise<ThroughputOutcome> {
  const failures = new Map<Contender, { error: unknown; during: string }>();
  const measure = async (contender: Contender, ops: number, during: string): Promise<RoundSample | undefined> => {
    if (failures.has(contender)) return undefined;
    try {
      return await runOps(bindOperation(contender, testCase.operation), ops, testCase.concurrency);
    } catch (error) {
      if (contender === contenders[0]) throw error;
      failures.set(contender, { error, during });
      log(`  ${testCase.name} · ${during} · ${contender.label} failed, out of this case: ${describeError(error)}`);
      return undefined;
    }
  };
  for (const contender of contenders) await measure(contender, testCase.warmupOps, "warm-up");
  const samples = await interleaveRounds(contenders, rounds, async (contender, round) => {
    const sample = await measure(contender, testCase.ops, `round ${round + 1}/${rounds}`);
    if (sample !== undefined) {
      log(
        `  ${testCase.name} · round ${round + 1}/${rounds} · ${contender.label}: ${formatInteger(opsPerSecond(sample))} ops/s`,
      );
    }
    return sample;
  });

  const baseline = (samples[0] as RoundSample[]).map(opsPerSecond);
  const baselineCpu = (samples[0] as RoundSample[]).map(cpuPerOp);
  const rows: Row[] = [];
  const raw: ThroughputOutcome["raw"] = {};
  const notes: string[] = [];
  contenders.forEach((contender, index) => {
    const failure = failures.get(contender);
    if (failure !== undefined) {
      const error = describeError(failure.error);
      rows.push({ case: testCase.name, contender: contender.label, ratioShown: "failed" });
      raw[contender.id] = { error };
      notes.push(`${contender.label}, ${testCase.name}: a call failed during the ${failure.during} (${error}).`);
      return;
    }
    const own = samples[index] as RoundSample[];
    const throughput = own.map(opsPerSecond);
    const p50 = own.map((sample) => percentile(sample.latenciesMs, 50));
    const p99 = own.map((sample) => percentile(sample.latenciesMs, 99));
    const ratios = throughput.map((value, round) => (baseline[round] as number) / value);
    const cpu = own.map(cpuPerOp);
    const cpuRatios = cpu.map((value, round) => value / (baselineCpu[round] as number));
    const [ops, p50s, p99s, ratio, cpus, cpuRatio] = [
      spreadOf(throughput, 1),
      spreadOf(p50, 0.001),
      spreadOf(p99, 0.001),
      spreadOf(ratios, 0.01),
      spreadOf(cpu, 0.1),
      spreadOf(cpuRatios, 0.01),
    ];
    rows.push({
      case: testCase.name,
      contender: contender.label,
      opsShown: ops.shown,
      p50Shown: p50s.shown,
      p99Shown: p99s.shown,
      ratioShown: ratio.shown,
      cpuShown: cpus.shown,
      cpuRatioShown: cpuRatio.shown,
      opsPerSecond: ops.median,
      p50Ms: p50s.median,
      p99Ms: p99s.median,
      ratio: ratio.median,
      ratioQ1: ratio.q1,
      ratioQ3: ratio.q3,
      cpuMicrosPerOp: cpus.median,
      cpuRatio: cpuRatio.median,
      cpuRatioQ1: cpuRatio.q1,
      cpuRatioQ3: cpuRatio.q3,
    });
    raw[contender.id] = { opsPerSecond: throughput.map(Math.round), p50Ms: p50, p99Ms: p99, cpuMicrosPerOp: cpu };
  });
  // A --baseline build against this checkout's, paired round by round like the ratios above.
  for (const [index, older] of contenders.entries()) {
    const currentIndex = contenders.findIndex((contender) => contender.id === older.olderBuildOf);
    const current = contenders[currentIndex];
    if (current === undefined || failures.has(current) || failures.has(older)) continue;
    const [ours, theirs] = [samples[currentIndex], samples[index]] as [RoundSample[], RoundSample[]];
    const time = pairedRatio(ours.map(timePerOp), theirs.map(timePerOp));
    const cpu = pairedRatio(ours.map(cpuPerOp), theirs.map(cpuPerOp));
    notes.push(
      `${testCase.name}: ${current.label} ÷ ${older.label}, per round: × time/op ${time}, × CPU ${cpu}; below 1.00 this checkout is faster.`,
    );
  }
  return { rows, raw, notes };
}

/** The case's operation as the contender's app calls it: inside its per-request context, if it has one. */
function bindOperation(contender: Contender, operation: ThroughputCase["operation"]): Operation {
  const { client, around } = contender;
  if (around === undefined) return (index) => operation(client, index);
  return (index) => around(() => operation(client, index));
}

function timePerOp(sample: RoundSample): number {
  return sample.elapsedMs / sample.ops;
}

function cpuPerOp(sample: RoundSample): number {
  return sample.cpuMicros / sample.ops;
}

function opsPerSecond(sample: RoundSample): number {
  return sample.ops / (sample.elapsedMs / 1000);
}

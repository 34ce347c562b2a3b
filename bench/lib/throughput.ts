import { pairedRatio } from "./baseline.ts";
import { describeError } from "./cluster-state.ts";
import type { BenchClient, Contender } from "./contenders.ts";
import { formatFixed, formatInteger } from "./format.ts";
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

export const THROUGHPUT_COLUMNS: readonly Column[] = [
  { key: "case", header: "case", align: "left", group: true },
  { key: "contender", header: "contender", align: "left" },
  { key: "opsPerSecond", header: "ops/s", format: (v) => formatInteger(v) },
  { key: "p50Ms", header: "p50 ms", format: (v) => formatFixed(v, 3) },
  { key: "p99Ms", header: "p99 ms", format: (v) => formatFixed(v, 3) },
  { key: "ratio", header: "× time/op", format: (v) => formatFixed(v, 3) },
  { key: "ratioIqr", header: "IQR", align: "left" },
  { key: "cpuMicrosPerOp", header: "CPU µs/op", format: (v) => formatFixed(v, 1) },
  { key: "cpuRatio", header: "× CPU", format: (v) => formatFixed(v, 3) },
  { key: "cpuRatioIqr", header: "IQR", align: "left" },
];

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
      rows.push({ case: testCase.name, contender: contender.label, ratioIqr: "failed" });
      raw[contender.id] = { error };
      notes.push(`${contender.label}, ${testCase.name}: a call failed during the ${failure.during} (${error}).`);
      return;
    }
    const own = samples[index] as RoundSample[];
    const throughput = own.map(opsPerSecond);
    const p50 = own.map((sample) => percentile(sample.latenciesMs, 50));
    const p99 = own.map((sample) => percentile(sample.latenciesMs, 99));
    const ratios = throughput.map((value, round) => (baseline[round] as number) / value);
    const [q1, q3] = quartiles(ratios);
    const cpu = own.map(cpuPerOp);
    const cpuRatios = cpu.map((value, round) => value / (baselineCpu[round] as number));
    const [cpuQ1, cpuQ3] = quartiles(cpuRatios);
    rows.push({
      case: testCase.name,
      contender: contender.label,
      opsPerSecond: median(throughput),
      p50Ms: median(p50),
      p99Ms: median(p99),
      ratio: median(ratios),
      ratioIqr: `${formatFixed(q1, 2)}–${formatFixed(q3, 2)}`,
      cpuMicrosPerOp: median(cpu),
      cpuRatio: median(cpuRatios),
      cpuRatioIqr: `${formatFixed(cpuQ1, 2)}–${formatFixed(cpuQ3, 2)}`,
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

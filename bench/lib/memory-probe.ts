/**
 * What the memory scenario's child process does (memory-probe-child.ts is its entry point): one
 * contender alone in a fresh V8 heap, so what it measures is that contender's, not its neighbours'.
 */
import { ALL_CONTENDERS, type ContenderId, type Driver } from "./contenders.ts";
import { seededId } from "./seed.ts";

export interface ProbeConfig {
  readonly contender: ContenderId;
  readonly driver: Driver;
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** Cumulative query counts at which the heap is read, ascending. */
  readonly checkpoints: readonly number[];
  readonly concurrency: number;
  readonly warmupOps: number;
}

export interface HeapReading {
  /** Routed queries run since the warm-up (0 = right after it). */
  readonly queries: number;
  readonly heapUsed: number;
  readonly rss: number;
  readonly elapsedMs: number;
}

export const PROBE_MARKER = "PROBE_RESULT ";

async function settledHeap(queries: number, elapsedMs: number): Promise<HeapReading> {
  const gc = globalThis.gc;
  if (typeof gc !== "function") throw new Error("memory-probe needs node --expose-gc");
  // Let pending callbacks (pool releases, timers) run, then collect twice: the first full GC can
  // leave objects that only finalizers made garbage.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { queries, heapUsed, rss, elapsedMs };
}

/** Queries `from` up to `to` with `concurrency` callers; nothing recorded, so the probe itself allocates nothing that lasts. */
async function runQueries(
  operation: (index: number) => PromiseLike<unknown>,
  from: number,
  to: number,
  concurrency: number,
): Promise<void> {
  let next = from;
  const caller = async () => {
    while (next < to) await operation(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
}

export async function probe(config: ProbeConfig): Promise<HeapReading[]> {
  const spec = ALL_CONTENDERS.find((candidate) => candidate.id === config.contender);
  if (spec === undefined) throw new Error(`unknown contender ${config.contender}`);
  const contender = await spec.create({
    primaryUrl: config.primaryUrl,
    replicaUrl: config.replicaUrl,
    workload: "reads",
    driver: config.driver,
  });
  try {
    const operation = (index: number) => contender.client.user.findUnique({ where: { id: seededId(index) } });
    await runQueries(operation, 0, config.warmupOps, config.concurrency);
    const readings = [await settledHeap(0, 0)];
    const started = performance.now();
    let done = 0;
    for (const checkpoint of config.checkpoints) {
      await runQueries(operation, done, checkpoint, config.concurrency);
      done = checkpoint;
      readings.push(await settledHeap(done, performance.now() - started));
    }
    return readings;
  } finally {
    await contender.close();
  }
}

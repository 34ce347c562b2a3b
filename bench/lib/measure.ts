/** One contender's measurement of one round. */
export interface RoundSample {
  readonly ops: number;
  readonly elapsedMs: number;
  /**
   * CPU time (user + system) this process spent during the round, in µs: the client side of the
   * work (Prisma, the router, pg), without the servers' share and without time other processes
   * took the CPU away.
   */
  readonly cpuMicros: number;
  /** Per operation, in ms, in completion order. */
  readonly latenciesMs: Float64Array;
}

export type Operation = (index: number) => PromiseLike<unknown>;

/**
 * Runs `ops` operations with `concurrency` callers, each awaiting its previous call before the
 * next (as request handlers do); any failure fails the run: a throughput number of failed calls
 * would mean nothing. The other callers stop at their next call and are waited for before it
 * rejects, so none of them runs on into the next contender's measurement.
 */
export async function runOps(operation: Operation, ops: number, concurrency: number): Promise<RoundSample> {
  const latenciesMs = new Float64Array(ops);
  let next = 0;
  let done = 0;
  let failure: { readonly error: unknown } | undefined;
  const caller = async () => {
    while (next < ops && failure === undefined) {
      const index = next++;
      const started = performance.now();
      try {
        await operation(index);
      } catch (error) {
        failure ??= { error };
        return;
      }
      latenciesMs[done++] = performance.now() - started;
    }
  };
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, ops) }, caller));
  if (failure !== undefined) throw failure.error;
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  return { ops, elapsedMs, cpuMicros: cpu.user + cpu.system, latenciesMs };
}

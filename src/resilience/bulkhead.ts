/** Limits of one node's bulkhead. */
export interface BulkheadSettings {
  /** Calls running at once: the pool's `connection_limit`. */
  readonly maxConcurrent: number;
  /** Calls that may wait for a connection; one more is refused at once. `Infinity`: no count bound. */
  readonly maxQueue: number;
  /** How long a call may wait for a connection, in ms (the URL's `pool_timeout`); 0 = as long as it takes. */
  readonly maxWaitMs: number;
}

/** Why the bulkhead refused a call. */
export type ShedCause = "queue-full" | "wait-too-long" | "closed";

/** Weight of the newest gap in the running mean of gaps between finishes. */
const GAP_WEIGHT = 0.2;

/**
 * Admission to one node: decides, before a call starts, whether it may join the node's pool
 * (which runs `maxConcurrent` and queues the rest, FIFO, for at most `maxWaitMs`) or is refused
 * at once (load shedding). The bulkhead keeps no queue of its own: a call it admits goes
 * straight to Prisma, so while one call's connection runs its query the next one is already
 * compiled and waiting, and the pool never idles between calls. It refuses a call that
 *
 * - would wait behind `maxQueue` others (`queue-full`), or
 * - would not get a connection within `maxWaitMs` (`wait-too-long`): no connection has freed up
 *   for that long, or at the pace connections have been freeing up while every one was taken,
 *   its turn would come later than that. It would time out in the pool anyway; a 503 now costs
 *   the caller nothing and the node no work.
 *
 * The node counts its calls in flight (`DbNode.inFlight`) and reports each start and finish,
 * whichever way the call came (a transaction, read-your-writes' own WAL query).
 *
 * @example
 * const bulkhead = new Bulkhead({ maxConcurrent: 10, maxQueue: Infinity, maxWaitMs: 10_000 });
 * const cause = bulkhead.refusal(node.inFlight); // undefined: admitted
 */
export class Bulkhead {
  readonly #settings: BulkheadSettings;
  readonly #now: () => number;
  #closed = false;
  /** When a connection last freed up while all were taken (or when they last all became taken). */
  #progressAt = 0;
  /** Running mean of the time between finishes while all connections were taken; 0 until measured. */
  #gapMs = 0;

  constructor(settings: BulkheadSettings, now: () => number = performance.now.bind(performance)) {
    this.#settings = settings;
    this.#now = now;
  }

  /** The count bound on waiting calls (`Infinity`: none). */
  get maxQueue(): number {
    return this.#settings.maxQueue;
  }

  /** Why a call arriving now, with `inFlight` calls already on the node, is refused; undefined: admitted. */
  refusal(inFlight: number): ShedCause | undefined {
    if (this.#closed) return "closed";
    const { maxConcurrent, maxQueue, maxWaitMs } = this.#settings;
    const position = inFlight - maxConcurrent + 1;
    if (position <= 0) return undefined;
    if (position > maxQueue) return "queue-full";
    if (maxWaitMs > 0 && this.#expectedWaitMs(position) > maxWaitMs) return "wait-too-long";
    return undefined;
  }

  /** A call on the node started; `inFlightAfter` counts it. */
  started(inFlightAfter: number): void {
    // It took the last free connection: from now on, time without a finish is a stall.
    if (inFlightAfter === this.#settings.maxConcurrent) this.#progressAt = this.#now();
  }

  /** A call on the node settled; `inFlightBefore` counts it. */
  finished(inFlightBefore: number): void {
    if (inFlightBefore < this.#settings.maxConcurrent) return;
    // Every connection was taken: how long this one took to free up is the pace of the queue.
    const now = this.#now();
    const gap = now - this.#progressAt;
    this.#gapMs = this.#gapMs === 0 ? gap : this.#gapMs + (gap - this.#gapMs) * GAP_WEIGHT;
    this.#progressAt = now;
  }

  /** Refuses every later call. */
  close(): void {
    this.#closed = true;
  }

  /** How long a call that is `position`-th in the pool's queue can expect to wait, in ms. */
  #expectedWaitMs(position: number): number {
    const stalledFor = this.#now() - this.#progressAt;
    return Math.max(stalledFor, position * this.#gapMs);
  }
}

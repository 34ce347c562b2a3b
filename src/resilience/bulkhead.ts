/** Limits of one node's bulkhead. */
export interface BulkheadSettings {
  /** Calls running at once: the pool's `connection_limit`. */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot; one more is shed at once. */
  readonly maxQueue: number;
  /** How long a call may wait for a slot, in ms (the URL's `pool_timeout`); 0 = as long as it takes. */
  readonly maxWaitMs: number;
}

/** Why the bulkhead refused a call. */
export type ShedCause = "queue-full" | "queue-timeout" | "closed" | "abandoned";

/** Lets a caller that stopped waiting (its breaker timed out) take its call out of the queue. */
export interface QueueTicket {
  /** Removes the call from the queue if it is still waiting there; a running call is not touched. */
  abandon(): void;
}

interface Waiter {
  readonly admit: () => void;
  readonly refuse: (cause: ShedCause) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * At most `maxConcurrent` calls in flight on a node and a bounded queue behind them; past it a
 * call is refused at once (load shedding) instead of growing the pool's own unbounded queue.
 * The refusal itself is the caller's to shape: `shed(cause)` builds the error.
 *
 * @example
 * const bulkhead = new Bulkhead({ maxConcurrent: 10, maxQueue: 20, maxWaitMs: 10_000 }, (cause) => new Error(cause));
 * await bulkhead.execute(() => runQuery());
 */
export class Bulkhead {
  readonly #settings: BulkheadSettings;
  readonly #shed: (cause: ShedCause) => Error;
  readonly #queue: Waiter[] = [];
  #active = 0;
  #closed = false;

  constructor(settings: BulkheadSettings, shed: (cause: ShedCause) => Error) {
    this.#settings = settings;
    this.#shed = shed;
  }

  /** Calls running now. */
  get active(): number {
    return this.#active;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** True when a call now would be refused at once (closed, or every slot and queue place taken). */
  get isFull(): boolean {
    return (
      this.#closed || (this.#active >= this.#settings.maxConcurrent && this.#queue.length >= this.#settings.maxQueue)
    );
  }

  /** Why a call now would be refused at once. */
  get refusal(): ShedCause {
    return this.#closed ? "closed" : "queue-full";
  }

  /**
   * Runs `fn` when a slot is free. `ticket`, if given, gets an `abandon` that withdraws the call
   * while it still waits: a call its caller gave up on must not run later (a write the caller
   * was told failed could otherwise still happen, and again when the caller retries it).
   */
  execute<T>(fn: () => Promise<T>, ticket?: { abandon?: () => void }): Promise<T> {
    if (this.#closed) return Promise.reject(this.#shed("closed"));
    if (this.#active < this.#settings.maxConcurrent) return this.#run(fn);
    if (this.#queue.length >= this.#settings.maxQueue) return Promise.reject(this.#shed("queue-full"));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { admit: resolve, refuse: (cause) => reject(this.#shed(cause)), timer: undefined };
      if (ticket !== undefined) {
        ticket.abandon = () => {
          if (!this.#remove(waiter)) return;
          clearTimeout(waiter.timer);
          waiter.refuse("abandoned");
        };
      }
      if (this.#settings.maxWaitMs > 0) {
        waiter.timer = setTimeout(() => {
          this.#remove(waiter);
          waiter.refuse("queue-timeout");
        }, this.#settings.maxWaitMs);
        waiter.timer.unref();
      }
      this.#queue.push(waiter);
    }).then(() => this.#run(fn, true));
  }

  /** Refuses every waiting call and every later one; running calls finish. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.refuse("closed");
    }
  }

  /** `handedOver`: a finishing call passed its slot on to this one (see `#release`). */
  #run<T>(fn: () => Promise<T>, handedOver = false): Promise<T> {
    if (!handedOver) this.#active++;
    let running: Promise<T>;
    try {
      running = fn();
    } catch (error) {
      running = Promise.reject(error);
    }
    return running.finally(() => this.#release());
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next === undefined) {
      this.#active--;
      return;
    }
    // The slot goes straight to the next waiter, so no newcomer can take it in between.
    clearTimeout(next.timer);
    next.admit();
  }

  /** Takes `waiter` out of the queue; false if it is no longer there. */
  #remove(waiter: Waiter): boolean {
    const index = this.#queue.indexOf(waiter);
    if (index < 0) return false;
    this.#queue.splice(index, 1);
    return true;
  }
}

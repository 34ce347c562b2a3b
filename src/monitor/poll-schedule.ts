/** How the replica monitor's rounds are spaced. */
export interface PollScheduleOptions {
  /** From the start of one round to the start of the next (at once when a round took longer). */
  readonly intervalMs: number;
  /** The spacing while `hurried()`, when shorter than `intervalMs`. */
  readonly quickMs: number;
  /** Whether something waits for a round's answer now (a node's open breaker). */
  readonly hurried: () => boolean;
  readonly now: () => number;
}

/**
 * Runs `round` over and over, one at a time: `intervalMs` apart, `quickMs` apart while
 * `hurried()`; `hurry()` brings a far-off next round forward. Its timer is unref()ed: it never
 * keeps the process alive.
 *
 * @example
 * const schedule = new PollSchedule(() => pollOnce(), { intervalMs: 1000, quickMs: 200, hurried, now });
 * schedule.start();
 */
export class PollSchedule {
  readonly #round: () => Promise<void>;
  readonly #options: PollScheduleOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending timer fires (`now()`). */
  #dueAt = 0;
  #running = false;
  #stopped = true;

  constructor(round: () => Promise<void>, options: PollScheduleOptions) {
    this.#round = round;
    this.#options = options;
  }

  /** Starts the rounds, the first at once; idempotent, also after `stop()`. */
  start(): void {
    this.#stopped = false;
    if (this.#timer === undefined && !this.#running) this.#after(0);
  }

  /** No round after the one running (if any); idempotent. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Something started waiting for an answer: the next round comes within `quickMs`. */
  hurry(): void {
    if (this.#timer === undefined || this.#dueAt - this.#options.now() <= this.#quickMs()) return;
    clearTimeout(this.#timer);
    this.#after(this.#quickMs());
  }

  #quickMs(): number {
    return Math.min(this.#options.intervalMs, this.#options.quickMs);
  }

  #after(delayMs: number): void {
    this.#dueAt = this.#options.now() + delayMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = true;
      const started = this.#options.now();
      const next = () => {
        this.#running = false;
        if (this.#stopped) return;
        const interval = this.#options.hurried() ? this.#quickMs() : this.#options.intervalMs;
        this.#after(Math.max(0, interval - (this.#options.now() - started)));
      };
      this.#round().then(next, next);
    }, delayMs);
    this.#timer.unref();
  }
}

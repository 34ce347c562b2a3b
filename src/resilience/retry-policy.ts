import retry from "async-retry";
import type { RetrySettings } from "../config/resolve-resilience.js";

/** Thrown into async-retry's loop to say "wait, then try again"; never reaches a caller. */
export class RetryLater extends Error {
  constructor() {
    super("retry");
  }
}

/**
 * async-retry, used for what it does: attempts, exponential back-off with `randomize` (each wait
 * × a random factor in [1, 2), so callers that failed together do not retry together), and `bail`.
 * Its timers are unref()ed; while any call waits, one ref()ed handle keeps the process alive
 * instead (a script awaiting a retry must not exit mid-wait), and `stop()` lets it go at
 * shutdown, when every waiting call is released at once.
 *
 * @example
 * const policy = new RetryPolicy({ retries: 2, minTimeout: 50, maxTimeout: 1000, factor: 2 }, closingSignal);
 * await policy.execute(async (bail, attempt) => { ... throw new RetryLater() ... });
 */
export class RetryPolicy {
  readonly #settings: RetrySettings;
  readonly #closing: AbortSignal;
  readonly #closedError: () => Error;
  #waiting = 0;
  #hold: NodeJS.Timeout | undefined;

  constructor(settings: RetrySettings | false, closing: AbortSignal, closedError: () => Error) {
    this.#settings = settings === false ? { retries: 0, minTimeout: 0, maxTimeout: 0, factor: 1 } : settings;
    this.#closing = closing;
    this.#closedError = closedError;
    closing.addEventListener("abort", () => this.#release(), { once: true });
  }

  /** Attempts in all. */
  get maxAttempts(): number {
    return this.#settings.retries + 1;
  }

  /** The wait after attempt number `attempt` before `randomize` multiplies it by [1, 2). */
  nominalWaitMs(attempt: number): number {
    const { minTimeout, maxTimeout, factor } = this.#settings;
    return Math.min(maxTimeout, minTimeout * factor ** (attempt - 1));
  }

  /**
   * Runs `attempt(bail, number)` until it resolves, bails, or throws on the last attempt. Throwing
   * `RetryLater` asks for a wait and another attempt. Shutdown ends a wait at once (an attempt
   * that is running is left to finish: shutdown drains it).
   */
  execute<T>(attempt: (bail: (error: unknown) => void, attemptNumber: number) => Promise<T>): Promise<T> {
    let waiting = false;
    const stopWaiting = () => {
      if (!waiting) return;
      waiting = false;
      if (--this.#waiting === 0) this.#release();
    };
    return new Promise<T>((resolve, reject) => {
      const onClosing = () => {
        if (waiting) reject(this.#closedError());
      };
      this.#closing.addEventListener("abort", onClosing, { once: true });
      const run = retry<T>(
        (bail, attemptNumber) => {
          stopWaiting();
          if (attemptNumber > 1 && this.#closing.aborted) {
            bail(this.#closedError());
            return Promise.resolve(undefined as T);
          }
          return attempt(bail as (error: unknown) => void, attemptNumber).catch((error: unknown) => {
            if (error instanceof RetryLater) {
              if (this.#closing.aborted) {
                reject(this.#closedError());
              } else {
                waiting = true;
                if (this.#waiting++ === 0) this.#hold = setInterval(() => {}, 60_000);
              }
            }
            throw error;
          });
        },
        { ...this.#settings, randomize: true, unref: true } as retry.Options,
      );
      run.then(resolve, reject).finally(() => {
        stopWaiting();
        this.#closing.removeEventListener("abort", onClosing);
      });
    });
  }

  #release(): void {
    clearInterval(this.#hold);
    this.#hold = undefined;
  }
}

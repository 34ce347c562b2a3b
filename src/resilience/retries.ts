import retry from "async-retry";
import type { RetrySettings } from "../config/resolve-resilience.js";

/** One attempt: resolves (done), throws (retry after the back-off, if attempts are left), or calls `bail` (done, failed). */
export type RetryAttempt<T> = (bail: (error: unknown) => void, attemptNumber: number) => Promise<T>;

/**
 * async-retry, used as it is meant to be: attempts, exponential back-off with `randomize` (each
 * wait × a random factor in [1, 2), so callers that failed together do not retry together),
 * `bail` to stop, `onRetry` to report. Shutdown ends a wait at once: the waiting call is rejected
 * with `closedError()`, and the attempt async-retry then starts bails at once.
 *
 * @example
 * const retries = new Retries({ retries: 2, minTimeout: 50, maxTimeout: 1000, factor: 2 }, closingSignal, closedError);
 * await retries.run(async (bail, attempt) => { ... }, (error, attempt) => log(error, attempt));
 */
export class Retries {
  readonly #options: retry.Options;
  readonly #closing: AbortSignal;
  readonly #closedError: () => Error;
  /** Attempts in all (1 with retries off). */
  readonly maxAttempts: number;

  constructor(settings: RetrySettings | false, closing: AbortSignal, closedError: () => Error) {
    const { retries, minTimeout, maxTimeout, factor } =
      settings === false ? { retries: 0, minTimeout: 0, maxTimeout: 0, factor: 1 } : settings;
    this.#options = { retries, minTimeout, maxTimeout, factor, randomize: true };
    this.maxAttempts = retries + 1;
    this.#closing = closing;
    this.#closedError = closedError;
  }

  /** Runs `attempt` until it resolves, bails, or throws on the last attempt; `onRetry` before each wait. */
  run<T>(attempt: RetryAttempt<T>, onRetry: (error: unknown, attemptNumber: number) => void): Promise<T> {
    let waiting = false;
    return new Promise<T>((resolve, reject) => {
      const onClosing = () => {
        if (waiting) reject(this.#closedError());
      };
      this.#closing.addEventListener("abort", onClosing, { once: true });
      retry<T>(
        (bail, attemptNumber) => {
          waiting = false;
          if (attemptNumber > 1 && this.#closing.aborted) {
            bail(this.#closedError());
            return Promise.resolve(undefined as T);
          }
          return attempt(bail as (error: unknown) => void, attemptNumber);
        },
        {
          ...this.#options,
          onRetry: (error, attemptNumber) => {
            waiting = true;
            onRetry(error, attemptNumber);
          },
        },
      )
        .then(resolve, reject)
        .finally(() => this.#closing.removeEventListener("abort", onClosing));
    });
  }
}

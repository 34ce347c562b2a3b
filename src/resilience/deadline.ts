/**
 * Bounds a whole call, every attempt and wait included. `work` gets the deadline (ms since
 * epoch) so it starts no wait it could not finish; when time runs out the caller gets
 * `expired()` at once. The work is not cancelled (Prisma cannot cancel a query; the server's
 * `statement_timeout` ends it), and its late outcome is dropped without an unhandled rejection.
 *
 * @example
 * await withDeadline((deadlineAt) => attempts(deadlineAt), 5_000, () => new Error("timed out"));
 */
export function withDeadline<T>(
  work: (deadlineAt: number) => Promise<T>,
  ms: number,
  expired: () => Error,
  now: () => number = Date.now,
): Promise<T> {
  const running = work(now() + ms);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), ms);
    timer.unref();
  });
  running.catch(() => {});
  return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
}

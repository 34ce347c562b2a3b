import { setTimeout as sleep } from "node:timers/promises";

/**
 * Waits `ms` without keeping the process alive; resolves false at once if `signal` aborts
 * (shutdown began), true when the time is up.
 */
export async function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal, ref: false });
    return true;
  } catch {
    return false;
  }
}

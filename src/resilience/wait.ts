import { setTimeout as sleep } from "node:timers/promises";

/**
 * Waits `ms`; resolves false at once if `signal` aborts (shutdown began), true when the time is
 * up. The timer keeps the process alive: a caller is awaiting this retry, and between two
 * attempts nothing else may hold the event loop (a script awaiting a write while the primary
 * restarts would otherwise end mid-wait, exit code 13). Shutdown aborts it, so it never delays exit.
 */
export async function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

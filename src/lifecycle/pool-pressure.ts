import type { DbNode } from "../nodes/db-node.js";

/** A pool counts as busy from this share of its `connection_limit` in use. */
export const BUSY_SHARE = 0.75;
/** How often the pools are read: often enough that a busy spell is seen, cheap enough to forget. */
export const SAMPLE_EVERY_MS = 1_000;

/** One reading of a pool. */
export interface PoolReading {
  readonly inUse: number;
  readonly max: number;
}

/**
 * Since when each node's pool has stayed busy (at least {@link BUSY_SHARE} of its max in use at
 * every reading), so that diagnostics can tell a spell that lasts from a passing peak. One
 * reading below the share ends the spell.
 */
export class PoolPressure {
  readonly #busySince = new Map<string, number>();

  record(node: string, reading: PoolReading, now: number): void {
    const busy = reading.max > 0 && reading.inUse >= reading.max * BUSY_SHARE;
    if (!busy) this.#busySince.delete(node);
    else if (!this.#busySince.has(node)) this.#busySince.set(node, now);
  }

  /** How long the node's pool has been busy, as of `now`; 0 when it is not. */
  busyForMs(node: string, now: number): number {
    const since = this.#busySince.get(node);
    return since === undefined ? 0 : now - since;
  }
}

/** Reads every node's pool into `pressure` each {@link SAMPLE_EVERY_MS}; returns the function that stops. */
export function samplePoolPressure(nodes: readonly DbNode[], pressure: PoolPressure): () => void {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const node of nodes) pressure.record(node.name, readPool(node), now);
  }, SAMPLE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** A node's pool right now; a pool not opened yet is idle. */
export function readPool(
  node: DbNode,
): PoolReading & { readonly total: number; readonly idle: number; readonly waiting: number } {
  const pool = node.currentPool;
  const total = pool?.totalCount ?? 0;
  const idle = pool?.idleCount ?? 0;
  return { max: node.settings.poolMax, total, idle, inUse: total - idle, waiting: pool?.waitingCount ?? 0 };
}

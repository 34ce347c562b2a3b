import type { Pool } from "pg";

/** What shutdown needs of a checked-out pg client: where it is connected and how to cancel its query. */
export interface BusyConnection {
  readonly host: string;
  readonly port: number;
  /** The server's backend pid and cancel key (pg sets them at connect; not in @types/pg). */
  readonly processID?: number | null;
  readonly secretKey?: number | null;
  end(): Promise<void>;
}

const trackers = new WeakMap<Pool, Set<BusyConnection>>();

/**
 * Starts tracking the connections `pool` has handed out and not taken back (a running query,
 * an open transaction), with pg-pool's public `acquire`/`release`/`remove` events. Shutdown
 * cancels what is still busy when the drain time is up.
 */
export function trackBusyConnections(pool: Pool): void {
  if (trackers.has(pool)) return;
  const busy = new Set<BusyConnection>();
  trackers.set(pool, busy);
  pool.on("acquire", (client) => busy.add(client as unknown as BusyConnection));
  pool.on("release", (_error, client) => busy.delete(client as unknown as BusyConnection));
  pool.on("remove", (client) => busy.delete(client as unknown as BusyConnection));
}

/** The connections of `pool` that are checked out right now (empty when the pool is not tracked). */
export function busyConnections(pool: Pool): BusyConnection[] {
  return [...(trackers.get(pool) ?? [])];
}

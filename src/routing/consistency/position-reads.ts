import type { Lsn } from "../../nodes/lsn.js";

/**
 * Shares the primary's position query among writes that commit close together: a write needs a
 * position read by a query sent after it committed, and one query sent after several commits
 * serves them all. At most one query runs; writes that commit while it does share the next one,
 * sent when it answers. Sequential writes still get one each (the previous one has answered);
 * 16 concurrent writers get about one per round trip instead of one per write, which would take
 * as many connections from the same pool as the writes themselves.
 *
 * @param read sends one `SELECT pg_current_wal_insert_lsn()` (through the call pipeline).
 */
export function sharedPositionReads(read: () => Promise<Lsn>): () => Promise<Lsn> {
  let running: Promise<void> | undefined;
  let next: Promise<Lsn> | undefined;
  const send = (): Promise<Lsn> => {
    const query = read();
    const settled = query.then(ignore, ignore);
    running = settled;
    settled.then(() => {
      if (running === settled) running = undefined;
    });
    return query;
  };
  return () => {
    if (running === undefined) return send();
    // The running query was sent before this write committed: it does not cover it; the next one will.
    next ??= running.then(() => {
      next = undefined;
      return send();
    });
    return next;
  };
}

function ignore(): void {}

import { type Lsn, parseLsn } from "../../nodes/lsn.js";
import type { ContextState } from "./context-state.js";
import { ANY_NODE, type ConsistencyMode, POSITION_PENDING, type ReadGate, STICKY } from "./types.js";

/** Reads the primary's WAL position right after a write. */
export type ReadPrimaryLsn = () => Promise<Lsn>;

/**
 * `"lsn"`: after a write, one `SELECT pg_current_wal_insert_lsn()` on the primary; the context's
 * reads then go to a replica whose replayed position (as the replica monitor last saw it) has
 * reached that, else to the primary. A read never pays an extra query: when the monitor has not
 * yet seen a replica catch up, the primary answers, and one round trip there costs what asking a
 * replica "have you caught up?" would, before even reading.
 *
 * Nobody waits for that query. The write resolves when it commits; the query is sent by the
 * context's next read, which goes to the primary (where it sees the write) without waiting for
 * the answer, as do the reads after it until the answer comes. A context that only writes sends
 * none: its token carries the write's "floor after" time instead (the write counts as a read of
 * the primary for monotonic reads, `ReadHistory.noteServed`), which another instance's monitor
 * resolves.
 *
 * The insert position, not `pg_current_wal_lsn()`: with `synchronous_commit = off` a commit can
 * return before its WAL is written, and the write position may then be short of it.
 *
 * @param stickyMs how long reads stay on the primary when the position could not be read.
 * @param monotonicNow the clock of `ReadHistory` (the replica monitor's).
 */
export function lsnMode(readPrimaryLsn: ReadPrimaryLsn, stickyMs: number, monotonicNow: () => number): ConsistencyMode {
  /** Sends the query for the writes of `state` not covered yet; it is sent after they committed. */
  function readPosition(state: ContextState, now: () => number): void {
    state.positionUnread = false;
    state.positionsPending++;
    const sentAt = monotonicNow();
    readPrimaryLsn().then(
      (lsn) => {
        state.positionsPending--;
        state.noteLsn(lsn);
        // Read after the writes (and the reads that had ended): an upper bound of what they saw.
        state.reads.noteFloor(lsn, sentAt);
      },
      () => {
        state.positionsPending--;
        // The write is done; only its position is unknown (the primary just went away?): the
        // context falls back to "session" for this write rather than failing it.
        state.noteLsnMissing(now());
      },
    );
  }
  return {
    name: "lsn",
    readGate(state, now): ReadGate {
      if (state.lsnMissingAt !== undefined && now < state.lsnMissingAt + stickyMs) return STICKY;
      // The first read after a write asks for its position, and does not wait for it.
      if (state.positionUnread) readPosition(state, () => now);
      if (state.positionsPending > 0) return POSITION_PENDING;
      return state.lsn === undefined ? ANY_NODE : { kind: "replayed", lsn: state.lsn };
    },
    recordWrite(state, now, failed) {
      state.noteWrite(now());
      if (failed) {
        // It may have committed, but asking the primary now (perhaps down: that may be why it
        // failed) would hold the error back: the sticky window covers it instead.
        state.noteLsnMissing(now());
        return;
      }
      state.positionUnread = true;
    },
  };
}

/** The query `"lsn"` runs on the primary after a write. */
export const PRIMARY_LSN_SQL = "SELECT pg_current_wal_insert_lsn()::text AS lsn";

/** Parses PRIMARY_LSN_SQL's single row. */
export function lsnOfRow(rows: ReadonlyArray<{ lsn?: unknown }>): Lsn {
  const text = rows[0]?.lsn;
  if (typeof text !== "string") throw new Error("pg_current_wal_insert_lsn() returned no position");
  return parseLsn(text);
}

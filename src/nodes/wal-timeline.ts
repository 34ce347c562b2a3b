import type { Lsn } from "./lsn.js";

interface Mark {
  /** When the monitor first saw the primary at `lsn` (monitor clock, ms). */
  readonly at: number;
  /** When it last saw it there (the primary idle since `at`). */
  lastSeen: number;
  readonly lsn: Lsn;
}

/** What the timeline knows about when the primary went past a position. */
export interface PassedAt {
  /** The first time the primary was seen beyond the position. */
  readonly at: number;
  /**
   * True when that is the oldest mark kept: the primary may have gone past the position
   * earlier, before the monitor looked (or before old marks were dropped).
   */
  readonly earliestKnown: boolean;
}

/**
 * The primary's WAL position over time, as the monitor saw it: one mark each time the position
 * moved. A replica's lag in time is then "how long ago the primary first went past what the
 * replica has replayed". Unlike `now() - pg_last_xact_replay_timestamp()`, that is 0 on an idle
 * primary and does not jump to "an hour" when the first write after an idle hour is in flight.
 */
export class WalTimeline {
  readonly #marks: Mark[] = [];
  readonly #horizonMs: number;

  /** @param horizonMs how far back marks are kept; older lags are reported as "at least this". */
  constructor(horizonMs: number) {
    this.#horizonMs = horizonMs;
  }

  /** Records the primary's position seen at `at`; a position that did not move only moves its mark's `lastSeen`. */
  record(at: number, lsn: Lsn): void {
    const last = this.#marks[this.#marks.length - 1];
    if (last !== undefined && lsn <= last.lsn) {
      last.lastSeen = at;
      return;
    }
    this.#marks.push({ at, lastSeen: at, lsn });
    // Keep one mark older than the horizon, so a position just past the horizon still gets a time.
    while (this.#marks.length > 2 && (this.#marks[1] as Mark).at < at - this.#horizonMs) this.#marks.shift();
  }

  /** The primary's latest known position. */
  get latest(): Lsn | undefined {
    return this.#marks[this.#marks.length - 1]?.lsn;
  }

  /**
   * When the primary went beyond `lsn`; undefined when it never was seen beyond it. Between the
   * last time it was seen at or before `lsn` and the first time past it, the time is interpolated
   * along the WAL written meanwhile (exact under steady writes; after an idle spell it is at most
   * one poll early). Taking the first sample past it instead would make every lag look up to one
   * poll shorter than it is, and a replica that stopped replaying would leave rotation a poll late.
   */
  passed(lsn: Lsn): PassedAt | undefined {
    const marks = this.#marks;
    let low = 0;
    let high = marks.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((marks[middle] as Mark).lsn > lsn) high = middle;
      else low = middle + 1;
    }
    const mark = marks[low];
    if (mark === undefined) return undefined;
    const before = marks[low - 1];
    if (before === undefined) return { at: mark.at, earliestKnown: true };
    const share = Number(lsn - before.lsn) / Number(mark.lsn - before.lsn);
    return { at: before.lastSeen + share * (mark.at - before.lastSeen), earliestKnown: false };
  }
}

import { type Lsn, lsnDistance } from "../nodes/lsn.js";
import type { WalTimeline } from "./wal-timeline.js";

/** What one probe read off a standby. */
export interface StandbyPositions {
  /** `pg_last_wal_replay_lsn()`: everything up to here is visible to reads on the standby. */
  readonly replayLsn: Lsn;
  /** `pg_last_wal_receive_lsn()`: WAL streamed in, replayed or not. */
  readonly receiveLsn: Lsn | undefined;
  /**
   * The standby's clock minus `pg_last_xact_replay_timestamp()`. Only a fallback: it is the age
   * of the last replayed commit, which on an idle primary grows forever.
   */
  readonly replayDelayMs: number | undefined;
}

export interface Lag {
  readonly lagMs: number | undefined;
  readonly lagBytes: number | undefined;
}

/**
 * How far a standby is behind the primary.
 * - bytes: the primary's position now minus the standby's replayed position;
 * - time: how long ago the primary first went past the replayed position (see WalTimeline);
 *   0 when the standby has replayed all the primary had, so an idle primary never looks like lag.
 *
 * @param primaryLsn the primary's position read in this round (undefined if it did not answer).
 * @param now the time of this round, on the timeline's clock.
 */
export function measureLag(
  standby: StandbyPositions,
  primaryLsn: Lsn | undefined,
  timeline: WalTimeline,
  now: number,
): Lag {
  const { replayLsn, receiveLsn, replayDelayMs } = standby;
  const lagBytes = primaryLsn === undefined ? undefined : lsnDistance(primaryLsn, replayLsn);
  if (lagBytes === 0) return { lagMs: 0, lagBytes };
  const passed = timeline.passed(replayLsn);
  if (passed === undefined) {
    // Replayed all the primary was ever seen at (it may not answer now): only WAL received and
    // not yet replayed shows lag.
    const pending = receiveLsn !== undefined && receiveLsn > replayLsn;
    return { lagMs: pending ? replayDelayMs : 0, lagBytes };
  }
  const sincePassed = Math.max(0, now - passed.at);
  // When the primary may have passed the position before the monitor first looked (start-up),
  // the timeline only gives a lower bound: take the pessimistic age of the last replayed commit.
  const lagMs = passed.earliestKnown ? Math.max(sincePassed, replayDelayMs ?? 0) : sincePassed;
  return { lagMs, lagBytes };
}

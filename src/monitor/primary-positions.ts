import type { Lsn } from "../nodes/lsn.js";

interface Sample {
  /** When the probe that read it was sent (monotonic ms, `performance.now()`). */
  readonly sentAt: number;
  readonly lsn: Lsn;
}

/** Enough to cover any read still waiting for a sample: the newest are what such a read asks for. */
const KEPT = 32;

/**
 * The primary's WAL positions the replica monitor read, each with when its probe was sent. A
 * position read by a probe sent after a read ended is an upper bound of what that read can have
 * seen anywhere: a standby only replays WAL the primary has already flushed. Monotonic reads
 * (`ReadHistory`) ask it "the first position sampled after t".
 */
export class PrimaryPositions {
  readonly #samples: Sample[] = [];

  /** Records the position a probe sent at `sentAt` found (the monitor, once per round). */
  record(sentAt: number, lsn: Lsn): void {
    this.#samples.push({ sentAt, lsn });
    if (this.#samples.length > KEPT) this.#samples.shift();
  }

  /**
   * The position of the first probe sent after `at`; undefined while there is none yet. When older
   * samples were dropped the oldest kept one answers: later, so larger, still an upper bound.
   */
  firstSampledAfter(at: number): Lsn | undefined {
    for (const sample of this.#samples) if (sample.sentAt > at) return sample.lsn;
    return undefined;
  }
}

import type { PrimaryPositions } from "../../monitor/primary-positions.js";
import type { DbNode } from "../../nodes/db-node.js";
import { type Lsn, lsnReached } from "../../nodes/lsn.js";

/**
 * Monotonic reads for one consistency context: once a read of it has seen a state, no later read
 * of it sees an older one. The position the monitor last saw on a replica is only a *lower* bound
 * of what a read there saw, so the context keeps two things instead, and no read pays a query:
 * - `pinId`: the replica it last read from. Replay on one server only moves forward: while that
 *   replica is in rotation the context stays on it.
 * - a floor: an *upper* bound of what any of its reads (or writes) can have seen, the primary's
 *   position read after them: the monitor's first sample of the primary sent after the read ended
 *   (`floorAfter` while that sample has not come yet), a write's own position once known. When the
 *   context must leave its pin, only a replica the monitor has seen replay past the floor will do,
 *   else the primary.
 */
export class ReadHistory {
  /** The identity (`pinIdOf`) of the replica the context reads from; undefined: none (the primary, or no read yet). */
  pinId: string | undefined;
  /** Every read and write of the context saw at most this. */
  floor: Lsn | undefined;
  /** Monotonic ms: a read or write ended then, and the primary has not been sampled since. */
  floorAfter: number | undefined;
  /**
   * Where the context's first read was sent, before it answered: reads beside it go there too,
   * so that once they answer the context has one replica to stay on, not two.
   */
  firstSentTo: string | undefined;
  /** Bumped on every read or write served: a read that ran beside another cannot tell which one saw more. */
  version = 0;

  /** Whether the context has read or written (otherwise any replica will do). */
  get started(): boolean {
    return this.pinId !== undefined || this.floor !== undefined || this.floorAfter !== undefined;
  }

  /** A read or write of the context ended at `at` (monotonic ms) on `node` (a replica to pin, or undefined). */
  noteServed(pinId: string | undefined, at: number): void {
    this.pinId = pinId;
    this.floorAfter = this.floorAfter === undefined ? at : Math.max(this.floorAfter, at);
    this.version++;
  }

  /** Raises the floor to `lsn`; `settles`: it bounds everything up to `floorAfter` too (a write's own position). */
  noteFloor(lsn: Lsn, settles: number | undefined = undefined): void {
    if (this.floor === undefined || lsn > this.floor) this.floor = lsn;
    if (settles !== undefined && this.floorAfter !== undefined && this.floorAfter <= settles)
      this.floorAfter = undefined;
  }

  /** Takes in what a token carried: its pin, its floor, or the (monotonic) time after which the floor is sampled. */
  resume(pinId: string | undefined, floor: Lsn | undefined, floorAfter: number | undefined): void {
    if (pinId !== undefined || floorAfter !== undefined) {
      this.pinId = pinId;
      this.version++;
    }
    if (floor !== undefined) this.noteFloor(floor);
    if (floorAfter !== undefined) this.floorAfter = Math.max(this.floorAfter ?? floorAfter, floorAfter);
  }

  /** Takes the primary's first sample after `floorAfter` into the floor, once the monitor has one. */
  settle(positions: PrimaryPositions | undefined): void {
    if (this.floorAfter === undefined || positions === undefined) return;
    const sampled = positions.firstSampledAfter(this.floorAfter);
    if (sampled !== undefined) this.noteFloor(sampled, this.floorAfter);
  }
}

/**
 * The monotonic-reads rule for one read of a context: which of the replicas the router would take
 * it may use (`narrow`), and what it saw once a node answered it (`served`).
 */
export class ContextRead {
  readonly #history: ReadHistory;
  readonly #positions: PrimaryPositions | undefined;
  readonly #now: () => number;
  /** The history's version when the read was placed. */
  readonly #placedAt: number;
  #served = false;

  constructor(history: ReadHistory, positions: PrimaryPositions | undefined, now: () => number) {
    this.#history = history;
    this.#positions = positions;
    this.#now = now;
    this.#placedAt = history.version;
  }

  /**
   * The candidates this read may use: the pin alone while it is one of them; else, those seen
   * past the floor; none (the primary) while the floor waits for the primary's next sample.
   */
  narrow(candidates: readonly DbNode[]): readonly DbNode[] {
    const history = this.#history;
    const pinId = history.started ? history.pinId : history.firstSentTo;
    if (pinId !== undefined) {
      for (const candidate of candidates) if (pinIdOf(candidate) === pinId) return [candidate];
    }
    // Without the monitor nothing bounds what a read saw: the pin is all there is.
    if (!history.started || this.#positions === undefined) return candidates;
    history.settle(this.#positions);
    if (history.floorAfter !== undefined) return [];
    const floor = history.floor;
    if (floor === undefined) return [];
    return candidates.filter((candidate) => {
      const replayed = candidate.observed?.replayLsn;
      return replayed !== undefined && lsnReached(replayed, floor);
    });
  }

  /** The router sent the read's first attempt to `node`. */
  sent(node: DbNode): void {
    const history = this.#history;
    if (!history.started && history.firstSentTo === undefined && node.role === "replica") {
      history.firstSentTo = pinIdOf(node);
    }
  }

  /**
   * The read's first answer (a hedge's loser comes later and is not what the caller got), from
   * `node`. When another read of the context settled meanwhile on another replica, neither
   * replica is known to hold what both saw: no pin, the floor decides.
   */
  served(node: DbNode): void {
    if (this.#served) return;
    this.#served = true;
    const history = this.#history;
    const id = node.role === "replica" ? pinIdOf(node) : undefined;
    const alone = history.version === this.#placedAt || history.pinId === id;
    history.noteServed(alone ? id : undefined, this.#now());
  }
}

const PIN_IDS = new WeakMap<DbNode, { readonly identity: string; readonly id: string }>();

/**
 * A replica's name in a token: a hash of its `host:port/database?user`, the same on every app
 * instance configured with the same URL, and no host name in a cookie.
 */
export function pinIdOf(node: DbNode): string {
  const identity = node.settings.identity;
  const known = PIN_IDS.get(node);
  if (known !== undefined && known.identity === identity) return known.id;
  const id = fnv1a(identity);
  PIN_IDS.set(node, { identity, id });
  return id;
}

/** FNV-1a, 32 bits, base 36: short, stable, and enough to tell a handful of replicas apart. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

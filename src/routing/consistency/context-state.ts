import type { Lsn } from "../../nodes/lsn.js";
import { ReadHistory } from "./read-history.js";

/** What one consistency context knows about its own writes and reads, for one createDb() instance. */
export class ContextState {
  /** Wall-clock ms of the latest write (its own, or one carried in by a token). */
  writtenAt: number | undefined;
  /** The highest primary WAL position its reads must see. */
  lsn: Lsn | undefined;
  /** When a write's WAL position could not be read: reads fall back to the sticky window. */
  lsnMissingAt: number | undefined;
  /** A write committed and no position query has been sent since (`"lsn"`: the next read sends one). */
  positionUnread = false;
  /** Position queries sent and not answered: until they are, reads go to the primary. */
  positionsPending = 0;
  /** What its reads may have seen (monotonic reads). */
  readonly reads = new ReadHistory();

  noteWrite(at: number): void {
    if (this.writtenAt === undefined || at > this.writtenAt) this.writtenAt = at;
  }

  noteLsn(lsn: Lsn): void {
    if (this.lsn === undefined || lsn > this.lsn) this.lsn = lsn;
  }

  noteLsnMissing(at: number): void {
    if (this.lsnMissingAt === undefined || at > this.lsnMissingAt) this.lsnMissingAt = at;
  }
}

/**
 * One consistency context (a request): `db.$withSession(fn)` opens it in AsyncLocalStorage. Not a
 * database session: it holds a state per createDb() instance, so two databases used in one
 * request keep apart.
 */
export class ConsistencyContext {
  readonly #states = new Map<object, ContextState>();

  /** The state of `owner` (a createDb() instance's consistency), created on first use. */
  stateFor(owner: object): ContextState {
    let state = this.#states.get(owner);
    if (state === undefined) {
      state = new ContextState();
      this.#states.set(owner, state);
    }
    return state;
  }

  /** The state of `owner` if it has one. */
  peek(owner: object): ContextState | undefined {
    return this.#states.get(owner);
  }
}

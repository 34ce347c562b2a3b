import type { Lsn } from "../../nodes/lsn.js";

/** What one consistency context knows about its own writes, for one createDb() instance. */
export class SessionState {
  /** Wall-clock ms of the latest write (its own, or one carried in by a token). */
  writtenAt: number | undefined;
  /** The highest primary WAL position its reads must see. */
  lsn: Lsn | undefined;
  /** When a write's WAL position could not be read: reads fall back to the sticky window. */
  lsnMissingAt: number | undefined;

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
 * One consistency context (a request): `db.$withSession(fn)` opens it in AsyncLocalStorage. It
 * holds a state per createDb() instance, so two databases used in one request keep apart.
 */
export class ConsistencySession {
  readonly #states = new Map<object, SessionState>();

  /** The state of `owner` (a createDb() instance's consistency), created on first use. */
  stateFor(owner: object): SessionState {
    let state = this.#states.get(owner);
    if (state === undefined) {
      state = new SessionState();
      this.#states.set(owner, state);
    }
    return state;
  }

  /** The state of `owner` if it has one; reads never create it. */
  peek(owner: object): SessionState | undefined {
    return this.#states.get(owner);
  }
}

import type { ConsistencySettings } from "../../config/resolve-config.js";
import type { RoutingScope } from "../scope.js";
import { routingScope } from "../scope.js";
import { lsnMode, type ReadPrimaryLsn } from "./lsn-mode.js";
import { offMode } from "./off.js";
import type { SessionState } from "./session-state.js";
import { stickyMode } from "./sticky.js";
import { type ConsistencyPoint, decodeConsistencyToken, encodeConsistencyToken } from "./token.js";
import { ANY_NODE, type ConsistencyMode, type ReadGate } from "./types.js";

/**
 * Read-your-writes for one createDb() instance: what the current consistency context (if any)
 * needs from its reads, what a write there must record, and the token that carries it on.
 * Outside a context (no `$withSession`, middleware or `$withConsistency`), it does nothing.
 */
export class ReadYourWrites {
  readonly mode: ConsistencyMode;
  readonly #stickyMs: number;
  readonly #now: () => number;

  /** @param now wall-clock ms (tokens travel between machines); injectable for tests. */
  constructor(settings: ConsistencySettings, readPrimaryLsn: ReadPrimaryLsn, now: () => number = Date.now) {
    this.#stickyMs = settings.stickyMs;
    this.#now = now;
    this.mode =
      settings.readYourWrites === "lsn"
        ? lsnMode(readPrimaryLsn, settings.stickyMs)
        : settings.readYourWrites === "session"
          ? stickyMode(settings.stickyMs)
          : offMode;
  }

  /** What a read in `scope` needs. */
  readGate(scope: RoutingScope | undefined): ReadGate {
    const state = scope?.session?.peek(this);
    return state === undefined ? ANY_NODE : this.mode.readGate(state, this.#now());
  }

  /**
   * `settled`, delayed until the write is recorded in the current context (no delay, and no
   * extra work, outside one). Call it where the call starts: the context is read now.
   */
  afterWrite<T>(settled: Promise<T>): Promise<T> {
    const session = this.mode === offMode ? undefined : routingScope.getStore()?.session;
    if (session === undefined) return settled;
    const state = session.stateFor(this);
    return settled.then(
      async (value) => {
        await this.mode.recordWrite(state, this.#now, false);
        return value;
      },
      async (error: unknown) => {
        await this.mode.recordWrite(state, this.#now, true);
        throw error;
      },
    );
  }

  /** The current context's point as a token; undefined when there is nothing to carry. */
  token(): string | undefined {
    const state = routingScope.getStore()?.session?.peek(this);
    const point = state === undefined ? undefined : this.#pointOf(state);
    return point === undefined ? undefined : encodeConsistencyToken(point);
  }

  /** Checks a token before its context opens: throws ConsistencyTokenError. */
  decode(token: string | null | undefined): ConsistencyPoint | undefined {
    return token === undefined || token === null || token === "" ? undefined : decodeConsistencyToken(token);
  }

  /** Merges a token's point into the current context. */
  resume(point: ConsistencyPoint): void {
    const session = routingScope.getStore()?.session;
    if (session === undefined || this.mode === offMode) return;
    const state = session.stateFor(this);
    // A clock ahead of ours must not stretch the sticky window.
    const writtenAt = Math.min(point.writtenAt, this.#now());
    state.noteWrite(writtenAt);
    if (point.lsn !== undefined) state.noteLsn(point.lsn);
    else if (this.mode.name === "lsn") state.noteLsnMissing(writtenAt);
  }

  #pointOf(state: SessionState): ConsistencyPoint | undefined {
    if (state.writtenAt === undefined || this.mode === offMode) return undefined;
    const now = this.#now();
    const lsnTrusted =
      state.lsn !== undefined && !(state.lsnMissingAt !== undefined && now < state.lsnMissingAt + this.#stickyMs);
    if (lsnTrusted) return { writtenAt: state.writtenAt, lsn: state.lsn };
    // Without a position, only the sticky window helps the next request; past it, nothing does.
    return now < state.writtenAt + this.#stickyMs ? { writtenAt: state.writtenAt, lsn: undefined } : undefined;
  }
}

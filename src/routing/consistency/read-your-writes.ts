import type { ConsistencySettings } from "../../config/resolve-config.js";
import type { PrimaryPositions } from "../../monitor/primary-positions.js";
import type { RoutingScope } from "../scope.js";
import { routingScope } from "../scope.js";
import type { ContextState } from "./context-state.js";
import { lsnMode, type ReadPrimaryLsn } from "./lsn-mode.js";
import { offMode } from "./off.js";
import { ContextRead } from "./read-history.js";
import { stickyMode } from "./sticky.js";
import { type ConsistencyPoint, decodeConsistencyToken, encodeConsistencyToken } from "./token.js";
import { ANY_NODE, type ConsistencyMode, type ReadGate } from "./types.js";

/**
 * How far another instance's clock may be ahead of ours, for a token's "floor after" time: the
 * primary's position counts as its bound only when sampled this long after the time it names.
 */
export const TOKEN_CLOCK_SKEW_MS = 250;

/** What the consistency of contexts needs from the rest of createDb(). */
export interface ContextClocks {
  /** Wall-clock ms (tokens travel between machines). */
  readonly now?: () => number;
  /** Monotonic ms, the replica monitor's clock. */
  readonly monotonicNow?: () => number;
  /** The primary's positions as the monitor samples them; undefined without a monitor. */
  readonly primaryPositions?: PrimaryPositions | undefined;
}

/**
 * The session guarantees of one createDb() instance's consistency contexts: read-your-writes
 * (what a read of the current context needs after its writes, what a write must record) and
 * monotonic reads (`ReadHistory`), and the token that carries both on. Outside a context (no
 * `$withSession`, middleware or `$withConsistency`), or in mode `"off"`, it does nothing.
 */
export class ReadYourWrites {
  readonly mode: ConsistencyMode;
  readonly #stickyMs: number;
  readonly #now: () => number;
  readonly #monotonicNow: () => number;
  readonly #positions: PrimaryPositions | undefined;

  constructor(settings: ConsistencySettings, readPrimaryLsn: ReadPrimaryLsn, clocks: ContextClocks = {}) {
    this.#stickyMs = settings.stickyMs;
    this.#now = clocks.now ?? Date.now;
    this.#monotonicNow = clocks.monotonicNow ?? (() => performance.now());
    this.#positions = clocks.primaryPositions;
    this.mode =
      settings.readYourWrites === "lsn"
        ? lsnMode(readPrimaryLsn, settings.stickyMs, this.#monotonicNow)
        : settings.readYourWrites === "session"
          ? stickyMode(settings.stickyMs)
          : offMode;
  }

  /** What a read in `scope` needs for its context's writes. */
  readGate(scope: RoutingScope | undefined): ReadGate {
    const state = scope?.consistencyContext?.peek(this);
    return state === undefined ? ANY_NODE : this.mode.readGate(state, this.#now());
  }

  /** The monotonic-reads rule of one read in `scope`; undefined outside a context (or `"off"`). */
  contextRead(scope: RoutingScope | undefined): ContextRead | undefined {
    const context = scope?.consistencyContext;
    if (context === undefined || this.mode === offMode) return undefined;
    return new ContextRead(context.stateFor(this).reads, this.#positions, this.#monotonicNow);
  }

  /**
   * `settled`, with the write recorded in the current context as it settles (no extra work outside
   * one). It resolves when the write does: what it records later (its position) is for the next
   * reads. Call it where the call starts: the context is read now.
   */
  afterWrite<T>(settled: Promise<T>): Promise<T> {
    const context = this.mode === offMode ? undefined : routingScope.getStore()?.consistencyContext;
    if (context === undefined) return settled;
    const state = context.stateFor(this);
    return settled.then(
      (value) => {
        this.#recordWrite(state, false);
        return value;
      },
      (error: unknown) => {
        this.#recordWrite(state, true);
        throw error;
      },
    );
  }

  /** The current context's point as a token; undefined when there is nothing to carry. */
  token(): string | undefined {
    const state = routingScope.getStore()?.consistencyContext?.peek(this);
    const point = state === undefined ? undefined : this.#pointOf(state);
    return point === undefined ? undefined : encodeConsistencyToken(point);
  }

  /** Checks a token before its context opens: throws ConsistencyTokenError. */
  decode(token: string | null | undefined): ConsistencyPoint | undefined {
    return token === undefined || token === null || token === "" ? undefined : decodeConsistencyToken(token);
  }

  /** Merges a token's point into the current context. */
  resume(point: ConsistencyPoint): void {
    const context = routingScope.getStore()?.consistencyContext;
    if (context === undefined || this.mode === offMode) return;
    const state = context.stateFor(this);
    if (point.writtenAt !== undefined) {
      // A clock ahead of ours must not stretch the sticky window.
      const writtenAt = Math.min(point.writtenAt, this.#now());
      state.noteWrite(writtenAt);
      if (point.lsn !== undefined) state.noteLsn(point.lsn);
      // A write whose position is not known: its floor covers it, if the token has one.
      else if (this.mode.name === "lsn" && point.floor === undefined && point.floorAfter === undefined) {
        state.noteLsnMissing(writtenAt);
      }
    }
    const floorAfter =
      point.floorAfter === undefined
        ? undefined
        : this.#monotonicNow() - (this.#now() - (point.floorAfter + TOKEN_CLOCK_SKEW_MS));
    state.reads.resume(point.pin, point.floor, floorAfter);
  }

  #recordWrite(state: ContextState, failed: boolean): void {
    // A write sees the primary as it is: later reads need a replica past the primary's position after it.
    state.reads.noteServed(undefined, this.#monotonicNow());
    this.mode.recordWrite(state, this.#now, failed);
  }

  #pointOf(state: ContextState): ConsistencyPoint | undefined {
    const reads = state.reads;
    reads.settle(this.#positions);
    const floorAfter =
      reads.floorAfter === undefined ? undefined : this.#now() - (this.#monotonicNow() - reads.floorAfter);
    const write = this.#writeOf(state);
    if (write === undefined && !reads.started) return undefined;
    return {
      writtenAt: write?.writtenAt,
      lsn: write?.lsn,
      pin: reads.pinId,
      floor: floorAfter === undefined ? reads.floor : undefined,
      floorAfter,
    };
  }

  /** The write part of the point: its time and position, while they still tell the next request something. */
  #writeOf(state: ContextState): { writtenAt: number; lsn: ConsistencyPoint["lsn"] } | undefined {
    if (state.writtenAt === undefined || this.mode === offMode) return undefined;
    const now = this.#now();
    const lsnTrusted =
      state.lsn !== undefined && !(state.lsnMissingAt !== undefined && now < state.lsnMissingAt + this.#stickyMs);
    if (lsnTrusted) return { writtenAt: state.writtenAt, lsn: state.lsn };
    // Without a position, only the sticky window helps the next request; past it, nothing does.
    return now < state.writtenAt + this.#stickyMs ? { writtenAt: state.writtenAt, lsn: undefined } : undefined;
  }
}

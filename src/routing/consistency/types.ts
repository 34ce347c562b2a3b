import type { ReadYourWrites } from "../../config/options.js";
import type { Lsn } from "../../nodes/lsn.js";
import type { ContextState } from "./context-state.js";

/** What a read of a consistency context needs. */
export type ReadGate =
  /** Nothing: any replica will do. */
  | { readonly kind: "any" }
  /** The primary (a write happened within the sticky window). */
  | { readonly kind: "sticky" }
  /** A replica that has replayed up to `lsn`, else the primary. */
  | { readonly kind: "replayed"; readonly lsn: Lsn }
  /** The primary: a write's position is being read (`"lsn"`), and only the primary surely has the write. */
  | { readonly kind: "position-pending" };

export const ANY_NODE: ReadGate = Object.freeze({ kind: "any" });
export const STICKY: ReadGate = Object.freeze({ kind: "sticky" });
export const POSITION_PENDING: ReadGate = Object.freeze({ kind: "position-pending" });

/** One `consistency.readYourWrites` mode. */
export interface ConsistencyMode {
  readonly name: ReadYourWrites;
  /** What a read needs now, given the context's state; `now` is wall-clock ms. */
  readGate(state: ContextState, now: number): ReadGate;
  /**
   * Records a write that settled in the context, successful or not (a failed write may still
   * have committed). Returns at once: what it learns later (a position) it records when it comes.
   */
  recordWrite(state: ContextState, now: () => number, failed: boolean): void;
}

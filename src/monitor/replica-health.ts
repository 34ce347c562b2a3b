/**
 * The replica monitor's decisions, as a pure function of the previous state and one probe, so
 * the hysteresis is tested without a database or a timer.
 */

/** `unknown` before the first probe; `down` and `lagging` take the replica out of rotation. */
export type ReplicaStatus = "unknown" | "up" | "down" | "lagging";

/** Lag bounds; undefined = no bound of that kind. */
export interface LagBounds {
  readonly maxLagMs: number | undefined;
  readonly maxLagBytes: number | undefined;
}

/**
 * A replica out of rotation for lag returns once its lag is at most this fraction of the bound:
 * "caught up", not "just under the line", so it does not flap in and out at the boundary.
 */
export const REJOIN_FRACTION = 0.5;

export type ProbeOutcome =
  | { readonly reachable: false }
  | {
      readonly reachable: true;
      /** `pg_is_in_recovery()`: false for a "replica" that is in fact a primary. */
      readonly inRecovery: boolean;
      readonly lagMs: number | undefined;
      readonly lagBytes: number | undefined;
    };

export interface ReplicaHealth {
  readonly status: ReplicaStatus;
  /** The server answered and is not a standby. Unknown while unreachable: the last answer stands. */
  readonly roleMismatch: boolean;
}

export type HealthEvent = "replica:down" | "replica:up" | "replica:lagging" | "role:mismatch";

export const INITIAL_HEALTH: ReplicaHealth = Object.freeze({ status: "unknown", roleMismatch: false });

/** The replica's next state after one probe, and the events its changes call for. */
export function nextReplicaHealth(
  previous: ReplicaHealth,
  outcome: ProbeOutcome,
  bounds: LagBounds,
): { health: ReplicaHealth; events: HealthEvent[] } {
  const events: HealthEvent[] = [];
  if (!outcome.reachable) {
    if (previous.status !== "down") events.push("replica:down");
    return { health: { status: "down", roleMismatch: previous.roleMismatch }, events };
  }

  const roleMismatch = !outcome.inRecovery;
  if (roleMismatch && !previous.roleMismatch) events.push("role:mismatch");

  let status: ReplicaStatus;
  if (exceeds(outcome, bounds, 1)) status = "lagging";
  else if (previous.status === "up" || previous.status === "unknown") status = "up";
  else status = exceeds(outcome, bounds, REJOIN_FRACTION) ? "lagging" : "up";

  if (status === "lagging" && previous.status !== "lagging") events.push("replica:lagging");
  if (status === "up" && (previous.status === "down" || previous.status === "lagging")) events.push("replica:up");
  return { health: { status, roleMismatch }, events };
}

function exceeds(
  lag: { readonly lagMs: number | undefined; readonly lagBytes: number | undefined },
  bounds: LagBounds,
  fraction: number,
): boolean {
  const overTime = bounds.maxLagMs !== undefined && lag.lagMs !== undefined && lag.lagMs > bounds.maxLagMs * fraction;
  const overBytes =
    bounds.maxLagBytes !== undefined && lag.lagBytes !== undefined && lag.lagBytes > bounds.maxLagBytes * fraction;
  return overTime || overBytes;
}

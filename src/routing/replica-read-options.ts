import { readGroup, readNumber } from "../config/validate.js";

/** What a call may ask of the replica that serves it: `db.$replica(options)`, `db.$withReplica(options, fn)`. */
export interface ReplicaReadOptions {
  /**
   * The read runs on a replica the monitor last saw at most this many ms behind the primary,
   * else on the primary (reason `max-lag`). Tighter than `replicas.maxLagMs`, for this call only.
   */
  readonly maxLagMs?: number | undefined;
}

/** No options: what `$replica()` and `$withReplica(fn)` take. */
export const NO_READ_OPTIONS: ReplicaReadOptions = Object.freeze({});

/**
 * The options of one `$replica(options)` / `$withReplica(options, fn)`, checked: an unknown key or
 * a bound that is not a number of ms ≥ 0 is a ConfigurationError naming `setting`.
 */
export function readReplicaReadOptions(setting: string, value: unknown): ReplicaReadOptions {
  const given = readGroup(setting, value, ["maxLagMs"]);
  if (given.maxLagMs === undefined) return NO_READ_OPTIONS;
  return Object.freeze({
    maxLagMs: readNumber(`${setting}.maxLagMs`, given.maxLagMs, { min: 0, unit: "milliseconds" }),
  });
}

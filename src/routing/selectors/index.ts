import { fastest } from "./fastest.js";
import { leastBusy } from "./least-busy.js";
import { random } from "./random.js";
import { roundRobin } from "./round-robin.js";
import type { ReplicaSelector, SelectionStrategy } from "./types.js";

export type { ReplicaCandidate, ReplicaSelector, SelectionStrategy } from "./types.js";

const STRATEGIES: Record<SelectionStrategy, () => ReplicaSelector> = {
  "round-robin": roundRobin,
  random: () => random(),
  "least-busy": leastBusy,
  fastest: () => fastest(),
};

/** The selector for `replicas.select` (checked by config/): a strategy's name or the user's own function. */
export function resolveSelector(select: SelectionStrategy | ReplicaSelector): ReplicaSelector {
  return typeof select === "function" ? select : STRATEGIES[select]();
}

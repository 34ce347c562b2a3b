import { ConfigurationError } from "../../errors.js";
import { leastBusy } from "./least-busy.js";
import { random } from "./random.js";
import { roundRobin } from "./round-robin.js";
import type { ReplicaSelector, SelectionStrategy } from "./types.js";

export type { ReplicaCandidate, ReplicaSelector, SelectionStrategy } from "./types.js";

const STRATEGIES: Record<SelectionStrategy, () => ReplicaSelector> = {
  "round-robin": roundRobin,
  random: () => random(),
  "least-busy": leastBusy,
};

/** The selector for `replicas.select`: a strategy's name or the user's own function. */
export function resolveSelector(select: SelectionStrategy | ReplicaSelector | undefined): ReplicaSelector {
  if (select === undefined) return roundRobin();
  if (typeof select === "function") return select;
  if (typeof select === "string" && Object.hasOwn(STRATEGIES, select)) return STRATEGIES[select]();
  throw new ConfigurationError(
    "replicas.select",
    `must be one of ${Object.keys(STRATEGIES)
      .map((name) => `"${name}"`)
      .join(", ")} or a function, got ${JSON.stringify(select)}`,
  );
}

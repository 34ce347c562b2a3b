import type { ReplicaCandidate, ReplicaSelector } from "./types.js";

/** Takes the candidates in turn, as pgpool-II and Rails do. */
export function roundRobin(): ReplicaSelector {
  let next = 0;
  return (candidates) => {
    const chosen = candidates[next % candidates.length] as ReplicaCandidate;
    next = (next + 1) % 1_000_000_007;
    return chosen;
  };
}

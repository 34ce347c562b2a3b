import type { ReplicaCandidate, ReplicaSelector } from "./types.js";

/** Any candidate with equal chance: no shared counter, so instances do not fall into step. */
export function random(pick: () => number = Math.random): ReplicaSelector {
  return (candidates) => candidates[Math.floor(pick() * candidates.length)] ?? (candidates[0] as ReplicaCandidate);
}

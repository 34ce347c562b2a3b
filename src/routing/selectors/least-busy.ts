import { roundRobin } from "./round-robin.js";
import type { ReplicaSelector } from "./types.js";

/**
 * The candidate with the fewest queries in flight from this process; ties go round-robin so an
 * idle cluster still spreads its load.
 */
export function leastBusy(): ReplicaSelector {
  const tieBreak = roundRobin();
  return (candidates) => {
    let fewest = Number.POSITIVE_INFINITY;
    for (const candidate of candidates) fewest = Math.min(fewest, candidate.inFlight);
    const idlest = candidates.filter((candidate) => candidate.inFlight === fewest);
    return tieBreak(idlest);
  };
}

import type { ReplicaCandidate, ReplicaSelector } from "./types.js";

/**
 * Power of two choices by load (Finagle's and Linkerd's P2C + peak EWMA): two distinct candidates
 * at random, and the one with the lower cost, its recent answer time (`latencyMs`, a decaying
 * average the node keeps) times its queries in flight plus one. A slow replica gets fewer reads
 * at once and is tried again as its bad news fades; two random picks instead of the cheapest of
 * all keep several instances from stampeding onto the same replica. A replica that has not
 * answered yet costs nothing, so it gets its first reads straight away.
 */
export function fastest(pick: () => number = Math.random): ReplicaSelector {
  return (candidates) => {
    const count = candidates.length;
    if (count < 2) return candidates[0] as ReplicaCandidate;
    const first = Math.floor(pick() * count) % count;
    let second = Math.floor(pick() * (count - 1)) % (count - 1);
    if (second >= first) second++;
    const a = candidates[first] as ReplicaCandidate;
    const b = candidates[second] as ReplicaCandidate;
    return costOf(b) < costOf(a) ? b : a;
  };
}

/** Below this (ms), answer times count alike: the in-flight count then decides. */
const LATENCY_FLOOR_MS = 0.05;

function costOf(candidate: ReplicaCandidate): number {
  return Math.max(candidate.latencyMs ?? 0, LATENCY_FLOOR_MS) * (candidate.inFlight + 1);
}

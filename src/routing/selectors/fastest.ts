import type { ReplicaCandidate, ReplicaSelector } from "./types.js";

/**
 * Power of two choices by expected answer time (after Finagle's and Linkerd's P2C + peak EWMA):
 * two distinct candidates at random, and the one a read sent now would hear from sooner: its
 * fastest recent statement time on a connection (`latencyMs`: the server's and the network's
 * time, the client's own event-loop wait left out, see LatencyEwma) times one plus the queue its
 * pool would put the read behind, `statements / connections`.
 *
 * The queue is the pool's own count, not `inFlight`: with 16 callers on a busy client most calls
 * in flight are in Prisma's JavaScript or waiting for the event loop, the same wherever they are
 * sent, and multiplying by them made a fast replica look 17 times its answer time, so a replica
 * 5 ms slower got 14 % of the reads. A slow replica is tried again as its bad news fades, and a
 * read sent there joins its count, so the next ones go elsewhere until it answers; two random
 * picks instead of the cheapest of all keep several instances from stampeding onto the same
 * replica. A replica that has not answered yet costs nothing, so it gets its first reads straight
 * away. A candidate without `statements` is counted by `inFlight`, without `connections` as one
 * connection: latency × (in flight + 1).
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

/** Below this (ms), answer times count alike: the queue then decides. */
const LATENCY_FLOOR_MS = 0.05;

export function costOf(candidate: ReplicaCandidate): number {
  const connections = candidate.connections !== undefined && candidate.connections > 0 ? candidate.connections : 1;
  const queued = candidate.statements ?? candidate.inFlight;
  return Math.max(candidate.latencyMs ?? 0, LATENCY_FLOOR_MS) * (1 + queued / connections);
}

/** What a replica selector may know about a candidate replica. */
export interface ReplicaCandidate {
  /** Stable name, e.g. `replica-0`. */
  readonly name: string;
  /** Position in `replicaUrls`. */
  readonly index: number;
  /** Queries this process has in flight on it right now. */
  readonly inFlight: number;
}

/**
 * Picks one of the healthy replicas for a read. Called with at least one candidate; returns one
 * of them (returning anything else sends the read to the first candidate).
 */
export type ReplicaSelector = (candidates: readonly ReplicaCandidate[]) => ReplicaCandidate;

export type SelectionStrategy = "round-robin" | "random" | "least-busy";

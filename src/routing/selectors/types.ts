export type { ReplicaCandidate, ReplicaSelector, SelectionStrategy } from "../../config/options.js";

import type { Scenario } from "../lib/scenario.ts";
import failFast from "./fail-fast.ts";
import findMany from "./find-many.ts";
import memory from "./memory.ts";
import pointRead from "./point-read.ts";
import replicaKilled from "./replica-killed.ts";
import routingLayer from "./routing-layer.ts";
import slowReplica from "./slow-replica.ts";
import write from "./write.ts";

/** Every scenario, in run order; the runner puts disruptive ones (they stop a node) last anyway. */
export const SCENARIOS: readonly Scenario[] = [
  pointRead,
  routingLayer,
  findMany,
  write,
  slowReplica,
  memory,
  failFast,
  replicaKilled,
];

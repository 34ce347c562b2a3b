// The names this repository's tests were written with.
export type { DevCluster as Cluster, DevNode as PgNode } from "../../src/dev-cluster/index.ts";
export * from "../../src/dev-cluster/index.ts";

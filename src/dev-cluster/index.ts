export { resolvePgBinDir } from "./binaries";
export { Cluster, type StartClusterOptions, startCluster, stopAllClusters } from "./cluster";
export { applyMigrations, defaultMigrationsDir } from "./migrate";
export { type NodeRole, PgNode, type PgNodeOptions, type StopMode } from "./node";
export { sweepOrphanedClusters } from "./sweep";

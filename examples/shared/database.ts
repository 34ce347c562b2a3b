import { type Cluster, startCluster } from "../../test/cluster/index.ts";

/** Where an example's database is. */
export interface ExampleDatabase {
  readonly primaryUrl: string;
  /**
   * As createDb() takes them: a list, or `DATABASE_REPLICA_URLS` as it is (createDb splits it
   * between URLs, not inside a multi-host URL's host list).
   */
  readonly replicaUrls: string | readonly string[];
  /** The throwaway cluster this process started, to stop on the way out; undefined with real URLs. */
  readonly embedded: Cluster | undefined;
}

/**
 * `DATABASE_URL` and `DATABASE_REPLICA_URLS` (comma-separated) from the environment, as
 * createDb() reads them by default. Without `DATABASE_URL`: a primary and two streaming replicas
 * on this machine (the repository's dev cluster: embedded PostgreSQL binaries, the schema's
 * migrations applied), so the example runs with one command and nothing to set up.
 */
export async function exampleDatabase(log: (line: string) => void): Promise<ExampleDatabase> {
  const primaryUrl = process.env.DATABASE_URL;
  if (primaryUrl !== undefined && primaryUrl !== "") {
    return { primaryUrl, replicaUrls: process.env.DATABASE_REPLICA_URLS ?? "", embedded: undefined };
  }
  log("DATABASE_URL is not set: starting a primary and 2 streaming replicas on this machine (embedded PostgreSQL)...");
  const cluster = await startCluster({ replicas: 2 });
  log(`  DATABASE_URL=${cluster.primaryUrl}`);
  log(`  DATABASE_REPLICA_URLS=${cluster.replicaUrls.join(",")}`);
  return { primaryUrl: cluster.primaryUrl, replicaUrls: cluster.replicaUrls, embedded: cluster };
}

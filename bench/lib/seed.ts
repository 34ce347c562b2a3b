import type { Cluster } from "../../test/cluster/index.ts";

/** Users seeded before any scenario runs: ids 1..SEED_USERS on a fresh database. */
export const SEED_USERS = 1000;

/** Seeds the rows every read scenario reads, and waits until the replica has them. */
export async function seed(cluster: Cluster): Promise<void> {
  await cluster.primary.query(
    `INSERT INTO users (email, name)
     SELECT 'seed-' || g || '@bench.test', 'User ' || g FROM generate_series(1, $1::int) AS g`,
    [SEED_USERS],
  );
  await cluster.primary.query("ANALYZE users");
  await cluster.waitForReplicas(30_000);
}

/** The id a read operation with this index asks for: every seeded user in turn. */
export function seededId(index: number): number {
  return (index % SEED_USERS) + 1;
}

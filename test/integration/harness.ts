import { afterAll, beforeAll } from "vitest";
import type { CreateDbOptions } from "../../src/config/options.ts";
import { createDb } from "../../src/index.ts";
import { type Cluster, startCluster } from "../cluster/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

type DbOptions = Omit<CreateDbOptions<PrismaClient>, "PrismaClient">;
export type TestDb = ReturnType<typeof createDb<PrismaClient>>;

/**
 * One real primary with `replicas` streaming replicas for the test file, and a factory of
 * createDb() clients on it; everything is stopped after the file's tests, also when they fail.
 */
export function useCluster(replicas = 1): { cluster: () => Cluster; db: (options?: DbOptions) => TestDb } {
  let cluster: Cluster | undefined;
  const dbs: TestDb[] = [];
  beforeAll(async () => {
    cluster = await startCluster({ replicas });
  });
  afterAll(async () => {
    await Promise.allSettled(dbs.map((db) => db.$disconnect()));
    await cluster?.stop();
  });
  const current = () => {
    if (cluster === undefined) throw new Error("the cluster is not up yet");
    return cluster;
  };
  return {
    cluster: current,
    db(options = {}) {
      const db = createDb({
        PrismaClient,
        primaryUrl: current().primaryUrl,
        replicaUrls: current().replicaUrls,
        ...options,
      });
      dbs.push(db);
      return db;
    },
  };
}

/** The port of the server that answered, read off the `node_info` view's first row. */
export function portOf(rows: ReadonlyArray<{ port: number }>): number | undefined {
  return rows[0]?.port;
}

let unique = 0;
/** An e-mail address no other test in this process uses. */
export function uniqueEmail(tag = "user"): string {
  unique += 1;
  return `${tag}-${process.pid}-${Date.now()}-${unique}@example.test`;
}

/** Whether one write (a new user) succeeds on `db` now: for polling until writes resume. */
export function writeSucceeds(db: TestDb, tag: string): Promise<boolean> {
  return db.user.create({ data: { email: uniqueEmail(tag) } }).then(
    () => true,
    () => false,
  );
}

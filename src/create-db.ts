import { readDataModel } from "./client/prisma-internals.js";
import { createRoutedClient } from "./client/routed-client.js";
import { SplitContext } from "./client/split-context.js";
import type { SplitClient } from "./client/types.js";
import type { CreateDbOptions } from "./config/options.js";
import { resolveConfig } from "./config/resolve-config.js";
import { SplitEvents } from "./lifecycle/events.js";
import { startLifecycle } from "./lifecycle/start.js";
import { createNodes } from "./nodes/create-nodes.js";
import { ReplicaMonitor } from "./nodes/replica-monitor.js";
import { attachResilience } from "./resilience/attach-resilience.js";
import { lsnOfRow, PRIMARY_LSN_SQL } from "./routing/consistency/lsn.js";
import { ReadYourWrites } from "./routing/consistency/read-your-writes.js";
import { Router } from "./routing/router.js";

/**
 * A drop-in for `new PrismaClient()` on a PostgreSQL primary and its read replicas: one
 * PrismaClient and pool per node, reads on replicas, writes and transactions on the primary.
 *
 * @example
 * import { createDb } from "prisma-split";
 * import { PrismaClient } from "./generated/prisma/client";
 *
 * // DATABASE_URL=postgresql://app@primary/app?connection_limit=10
 * // DATABASE_REPLICA_URLS=postgresql://app@replica-1/app,postgresql://app@replica-2/app
 * export const db = createDb({ PrismaClient });
 * const users = await db.user.findMany(); // a replica
 * await db.user.create({ data: { email: "a@example.com" } }); // the primary
 */
export function createDb<Client>(options: CreateDbOptions<Client>): SplitClient<Client> {
  const config = resolveConfig(options as CreateDbOptions<unknown>);
  const { primary, replicas } = createNodes(config, options.PrismaClient as new (options: never) => unknown);
  // Without replicas every read is on the primary already: no context needs recording.
  const consistency =
    replicas.length === 0 ? { ...config.consistency, readYourWrites: "off" as const } : config.consistency;
  const readYourWrites = new ReadYourWrites(consistency, () =>
    primary.run(() => primary.pool.query(PRIMARY_LSN_SQL)).then((result) => lsnOfRow(result.rows)),
  );
  const router = new Router(primary, replicas, config.selectReplica, config.fallbackToPrimary, readYourWrites);
  const events = new SplitEvents();
  const monitor =
    config.monitor === undefined || replicas.length === 0
      ? undefined
      : new ReplicaMonitor(primary, replicas, config.monitor, events);
  const context = new SplitContext(router, readDataModel(primary.client), {
    readYourWrites,
    monitor,
    events,
    lifecycle: config.lifecycle,
  });
  attachResilience(context, config.resilience);
  if (monitor !== undefined) {
    context.onClose(() => monitor.stop());
    monitor.start();
  }
  startLifecycle(context);
  const clients = { primary: primary.client, replicas: replicas.map((replica) => replica.client) };
  return createRoutedClient(context, clients) as SplitClient<Client>;
}

import { readDataModel } from "./client/prisma-internals.js";
import { createRoutedClient } from "./client/routed-client.js";
import type { SplitClient } from "./client/types.js";
import type { CreateDbOptions } from "./config/options.js";
import { resolveConfig } from "./config/resolve-config.js";
import { SplitEvents } from "./events.js";
import { attachLogger, flushLogger } from "./lifecycle/logger.js";
import { PoolBudgetCheck } from "./lifecycle/pool-budget-check.js";
import { FORCE_GRACE_MS } from "./lifecycle/shutdown.js";
import { startLifecycle } from "./lifecycle/start.js";
import { ReplicaMonitor } from "./monitor/replica-monitor.js";
import { createNodes } from "./nodes/create-nodes.js";
import type { DbNode } from "./nodes/db-node.js";
import { serverQuery } from "./pool/server-text.js";
import { AttemptTracer } from "./resilience/attempt-tracer.js";
import { CallPipeline, type PipelineCall } from "./resilience/call-pipeline.js";
import type { BreakerState } from "./resilience/circuit-breaker.js";
import { classifyFault } from "./resilience/classify-fault.js";
import { Hedge } from "./resilience/hedge.js";
import { NodeGuard } from "./resilience/node-guard.js";
import { Retries } from "./resilience/retries.js";
import { lsnOfRow, PRIMARY_LSN_SQL } from "./routing/consistency/lsn-mode.js";
import { ReadYourWrites } from "./routing/consistency/read-your-writes.js";
import { catalogReader } from "./routing/raw-sql/catalog-reader.js";
import { RawQueryClassifier } from "./routing/raw-sql/raw-query-classifier.js";
import { Router } from "./routing/router.js";
import { resolveSelector } from "./routing/selectors/index.js";
import { SplitState } from "./split-state.js";
import { PrimaryFollower } from "./topology/primary-follower.js";

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
  const { resilience } = config;
  const { primary, replicas } = createNodes(config, options.PrismaClient as new (options: never) => unknown);
  const events = new SplitEvents();
  if (config.logger) attachLogger(events, config.logger);
  const guardSettings = { breaker: resilience.breaker, bulkhead: resilience.bulkhead, budget: resilience.budget };
  // The follower learns of an open primary breaker here; after it moves the primary, the old
  // server's breaker state says nothing about the new one.
  const onBreakerChange = (node: DbNode, breaker: BreakerState) => {
    if (node === primary && breaker === "open") void follower.suspect("breaker-open");
  };
  const guards = new Map<DbNode, NodeGuard>(
    [primary, ...replicas].map((node) => [node, new NodeGuard(node, guardSettings, events, onBreakerChange)]),
  );
  const follower = new PrimaryFollower(
    primary,
    { ...config.follower, onRetarget: () => guards.get(primary)?.resetBreaker() },
    events,
  );
  // The write's position, read through the pipeline as any call: gate, deadline, guard, span.
  const readYourWrites = new ReadYourWrites(config.consistency, () =>
    pipeline.execute(PRIMARY_LSN_CALL).then((result) => lsnOfRow((result as { rows: Array<{ lsn?: unknown }> }).rows)),
  );
  const router = new Router(
    primary,
    replicas,
    resolveSelector(config.select),
    config.fallbackToPrimary,
    readYourWrites,
    { readsOnPrimary: config.reads === "primary", preferZone: config.preferZone },
  );
  const monitor =
    config.monitor === undefined || replicas.length === 0
      ? undefined
      : new ReplicaMonitor(
          primary,
          replicas,
          {
            ...config.monitor,
            // A node that answers nothing: the primary's writes fail fast from now on, and no call
            // waits on it (reads waiting or running there move to another node).
            onSilent: (node) => {
              if (node === primary) guards.get(primary)?.tripBreaker();
              node.abandon();
            },
            isPermanent: isConfigurationFault,
            isPrimaryServer: (node) => follower.isPrimaryServer(node),
            onPrimary: (seen) => {
              if (seen !== "writer") void follower.suspect(seen);
            },
            onCandidateWriter: () => void follower.suspect("promoted"),
            roundsWithoutWriter: () => follower.roundsWithoutWriter,
          },
          events,
        );
  const state = new SplitState({
    nodes: router.nodes,
    guards,
    events,
    lifecycle: config.lifecycle,
    readYourWrites,
    monitor,
    follower,
    poolBudget: new PoolBudgetCheck(router.nodes, events, config.lifecycle.poolCheck),
    flushLogs: () => flushLogger(config.logger, FORCE_GRACE_MS),
  });
  const pipeline: CallPipeline = new CallPipeline({
    router,
    guards,
    events,
    gate: state,
    retries: new Retries(resilience.retry, state.closingSignal, () => state.closedError()),
    deadlineMs: resilience.queryTimeoutMs,
    hedge: config.hedge === undefined ? undefined : new Hedge(config.hedge, events),
    tracer: AttemptTracer.create(config.tracing),
    readYourWrites,
  });
  follower.start();
  monitor?.start();
  startLifecycle(state);
  const clients = { primary: primary.client, replicas: replicas.map((replica) => replica.client) };
  const rawQueries = new RawQueryClassifier(catalogReader(router, guards, () => state.closed));
  return createRoutedClient(
    { state, pipeline, rawQueries, models: readDataModel(primary.client) },
    clients,
  ) as SplitClient<Client>;
}

/** The read-your-writes position query: an internal call on the primary (`"lsn"`, after a write). */
const PRIMARY_LSN_CALL: PipelineCall = Object.freeze({
  kind: "read",
  forced: "primary",
  batchable: false,
  operation: "pg_current_wal_insert_lsn",
  model: undefined,
  internal: true,
  startOn: (node: DbNode) => node.pool.query(serverQuery(PRIMARY_LSN_SQL)),
});

/**
 * A server's refusal the monitor backs off on. Not a failed password function: it sent nothing,
 * and an IAM token service that is back must bring the replica back at the next poll.
 */
function isConfigurationFault(error: unknown): boolean {
  const fault = classifyFault(error);
  return fault.kind === "configuration" && fault.nodeLocal !== true;
}

import { readDataModel } from "./client/prisma-internals.js";
import { createRoutedClient } from "./client/routed-client.js";
import type { SplitClient } from "./client/types.js";
import type { ConnectionSettings } from "./config/connection-url.js";
import type { CreateDbOptions } from "./config/options.js";
import { RESILIENCE_DEFAULTS } from "./config/options.js";
import { resolveConfig } from "./config/resolve-config.js";
import { SplitEvents } from "./events.js";
import { attachLogger } from "./lifecycle/logger.js";
import { PoolBudgetCheck } from "./lifecycle/pool-budget-check.js";
import { startLifecycle } from "./lifecycle/start.js";
import { createNodes } from "./nodes/create-nodes.js";
import type { DbNode } from "./nodes/db-node.js";
import { PrimaryFollower, type PrimaryFollowerOptions } from "./nodes/primary-follower.js";
import { ReplicaMonitor } from "./nodes/replica-monitor.js";
import { AttemptTracer } from "./resilience/attempt-tracer.js";
import { CallPipeline } from "./resilience/call-pipeline.js";
import { classifyFault } from "./resilience/classify-fault.js";
import { Hedge } from "./resilience/hedge.js";
import { NodeGuard } from "./resilience/node-guard.js";
import { RetryPolicy } from "./resilience/retry-policy.js";
import { lsnOfRow, PRIMARY_LSN_SQL } from "./routing/consistency/lsn.js";
import { ReadYourWrites } from "./routing/consistency/read-your-writes.js";
import { Router } from "./routing/router.js";
import { resolveSelector } from "./routing/selectors/index.js";
import { SplitState } from "./split-state.js";

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
  const { primary, replicas, candidates } = createNodes(
    config,
    options.PrismaClient as new (
      options: never,
    ) => unknown,
  );
  const events = new SplitEvents();
  const follower = new PrimaryFollower(
    primary,
    followerOptions(candidates, config.primaryCandidates.length > 1, config.monitor?.pollIntervalMs),
    events,
  );
  if (config.logger) attachLogger(events, config.logger);
  const bulkhead = resilience.bulkhead && {
    maxQueue: resilience.bulkhead.maxQueue ?? RESILIENCE_DEFAULTS.bulkhead.maxQueue,
  };
  const guardSettings = { breaker: resilience.breaker, bulkhead, budget: resilience.budget };
  const guards = new Map<DbNode, NodeGuard>(
    [primary, ...replicas].map((node) => [node, new NodeGuard(node, guardSettings, events)]),
  );
  // Without replicas every read is on the primary already: no context needs recording.
  const consistency =
    replicas.length === 0 ? { ...config.consistency, readYourWrites: "off" as const } : config.consistency;
  const primaryGuard = guards.get(primary) as NodeGuard;
  const readYourWrites = new ReadYourWrites(consistency, () =>
    primaryGuard.execute(() => primary.pool.query(PRIMARY_LSN_SQL), undefined).then((result) => lsnOfRow(result.rows)),
  );
  const router = new Router(
    primary,
    replicas,
    resolveSelector(config.select),
    config.fallbackToPrimary,
    readYourWrites,
  );
  const monitor =
    config.monitor === undefined || replicas.length === 0
      ? undefined
      : new ReplicaMonitor(
          primary,
          replicas,
          {
            ...config.monitor,
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
  // After a move the old server's breaker state says nothing about the new one.
  events.on("topology:change", () => primaryGuard.resetBreaker());
  events.on("breaker:open", (event) => {
    if (event.node === primary.name) void follower.suspect("breaker-open");
  });
  events.on("shutdown:start", () => follower.stop());
  const tracer = AttemptTracer.create(config.tracing);
  const state: SplitState = new SplitState({
    router,
    guards,
    events,
    lifecycle: config.lifecycle,
    readYourWrites,
    monitor,
    poolBudget: new PoolBudgetCheck(router.nodes, events, config.lifecycle.poolCheck),
    pipeline: (gate): CallPipeline =>
      new CallPipeline({
        router,
        guards,
        events,
        gate,
        retry: new RetryPolicy(resilience.retry, gate.closingSignal, () => state.closedError()),
        deadlineMs: resilience.queryTimeoutMs,
        hedge: config.hedge === undefined ? undefined : new Hedge(config.hedge, events),
        tracer,
        readYourWrites,
      }),
  });
  follower.start();
  monitor?.start();
  startLifecycle(state);
  const clients = { primary: primary.client, replicas: replicas.map((replica) => replica.client) };
  return createRoutedClient(state, readDataModel(primary.client), clients) as SplitClient<Client>;
}

/**
 * Questions to the candidates are bounded like the monitor's probes (1–5 s); after a round, the
 * next waits half a poll interval (at most 1 s), so a burst of 25006 asks once.
 */
function followerOptions(
  candidates: ConnectionSettings[],
  discoverAtStart: boolean,
  pollIntervalMs: number | undefined,
): PrimaryFollowerOptions {
  const poll = pollIntervalMs ?? 1000;
  return {
    candidates,
    discoverAtStart,
    probeTimeoutMs: Math.min(5000, Math.max(1000, 2 * poll)),
    cooldownMs: Math.min(1000, poll / 2),
    retryMs: poll,
  };
}

function isConfigurationFault(error: unknown): boolean {
  return classifyFault(error).kind === "configuration";
}

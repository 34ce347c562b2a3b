import type { ConnectionSettings } from "../config/connection-url.js";
import type { ResolvedConfig } from "../config/resolve-config.js";
import { tightestBound, withTimeBounds } from "../config/time-bounds.js";
import { DbNode } from "./db-node.js";

/**
 * One node per configured server: the primary and `replica-0`, `replica-1`, ...; and the servers
 * the primary may move to (`candidates`: the primary URL's hosts, then the replicas'), each with
 * the same time bounds.
 */
export function createNodes(
  config: ResolvedConfig,
  PrismaClient: new (options: never) => unknown,
): { primary: DbNode; replicas: DbNode[]; candidates: ConnectionSettings[] } {
  const { resilience } = config;
  // The server stops a statement at the tightest bound: its statement_timeout.
  const timeBound = tightestBound(
    resilience.queryTimeoutMs,
    resilience.breaker === false ? false : resilience.breaker.timeout,
  );
  const bounded = (settings: ResolvedConfig["primary"]) => withTimeBounds(settings, timeBound, settings.pgbouncer);
  const common = { PrismaClient, clientOptions: config.clientOptions };
  const primary = new DbNode({
    ...common,
    name: "primary",
    role: "primary",
    index: -1,
    settings: bounded(config.primary),
  });
  const replicas = config.replicas.map(
    (settings, index) =>
      new DbNode({ ...common, name: `replica-${index}`, role: "replica", index, settings: bounded(settings) }),
  );
  const candidates = new Map<string, ConnectionSettings>();
  for (const settings of [...config.primaryCandidates.map(bounded), ...replicas.map((replica) => replica.settings)]) {
    if (!candidates.has(settings.identity)) candidates.set(settings.identity, settings);
  }
  // The primary node starts as the first candidate itself, so "where it points" compares by identity.
  candidates.set(primary.settings.identity, primary.settings);
  return { primary, replicas, candidates: [...candidates.values()] };
}

import type { ConnectionSettings } from "../config/connection-url.js";
import { clientOptionsFor, poolConfigFor } from "../config/node-overrides.js";
import type { ResolvedConfig } from "../config/resolve-config.js";
import { tightestBound, withTimeBounds } from "../config/time-bounds.js";
import type { NodeRole } from "../errors.js";
import { DbNode } from "./db-node.js";

/**
 * One node per configured server: the primary and `replica-0`, `replica-1`, ...; and the servers
 * the primary may move to (`candidates`: the primary URL's hosts only), each with the same time
 * bounds. A replica URL is never a candidate: it is often a fixed-role endpoint (HAProxy's replica
 * port, a reader DNS name) that reaches the new leader for a few seconds during a switchover. To
 * have writes follow a promoted replica, list it among the primary URL's hosts.
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
  const withDriver = (name: string, role: NodeRole, index: number, settings: ConnectionSettings) => {
    const described = { name, role, index, url: settings.connectionString };
    return { ...bounded(settings), driver: poolConfigFor(config.pool, described) };
  };
  // Only a selector that reads `latencyMs` needs each query timed (a clock read and an exp per query).
  const timesQueries = config.select === "fastest" || typeof config.select === "function";
  const node = (name: string, role: NodeRole, index: number, settings: ConnectionSettings) =>
    new DbNode({
      PrismaClient,
      timesQueries,
      name,
      role,
      index,
      settings: withDriver(name, role, index, settings),
      clientOptions: clientOptionsFor(config.clientOptions, { name, role, index, url: settings.connectionString }),
    });
  const primary = node("primary", "primary", -1, config.primary);
  const replicas = config.replicas.map((settings, index) => node(`replica-${index}`, "replica", index, settings));
  // Where the primary may move: its URL's hosts (the same node: its driver settings).
  const candidates = new Map<string, ConnectionSettings>();
  for (const settings of config.primaryCandidates) {
    if (!candidates.has(settings.identity)) {
      candidates.set(settings.identity, { ...bounded(settings), driver: primary.settings.driver });
    }
  }
  // The primary node starts as the first candidate itself, so "where it points" compares by identity.
  candidates.set(primary.settings.identity, primary.settings);
  return { primary, replicas, candidates: [...candidates.values()] };
}

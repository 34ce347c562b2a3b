import type { ConnectionSettings } from "../config/connection-url.js";
import { clientOptionsFor, poolConfigFor } from "../config/node-overrides.js";
import type { ResolvedConfig } from "../config/resolve-config.js";
import { tightestBound, withTimeBounds } from "../config/time-bounds.js";
import type { NodeRole } from "../errors.js";
import { DbNode } from "./db-node.js";

/** One node per configured server: the primary and `replica-0`, `replica-1`, ... */
export function createNodes(
  config: ResolvedConfig,
  PrismaClient: new (options: never) => unknown,
): { primary: DbNode; replicas: DbNode[] } {
  const { resilience } = config;
  // The server stops a statement at the tightest bound: its statement_timeout.
  const timeBound = tightestBound(
    resilience.queryTimeoutMs,
    resilience.breaker === false ? false : resilience.breaker.timeout,
  );
  const bounded = (settings: ResolvedConfig["primary"]) => withTimeBounds(settings, timeBound, settings.pgbouncer);
  const node = (name: string, role: NodeRole, index: number, settings: ConnectionSettings) => {
    const described = { name, role, index, url: settings.connectionString };
    return new DbNode({
      PrismaClient,
      name,
      role,
      index,
      settings: { ...bounded(settings), driver: poolConfigFor(config.pool, described) },
      clientOptions: clientOptionsFor(config.clientOptions, described),
    });
  };
  const primary = node("primary", "primary", -1, config.primary);
  const replicas = config.replicas.map((settings, index) => node(`replica-${index}`, "replica", index, settings));
  return { primary, replicas };
}

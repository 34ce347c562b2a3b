import type { ResolvedConfig } from "../config/resolve-config.js";
import { tightestBound, withTimeBounds } from "../config/time-bounds.js";
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
  return { primary, replicas };
}

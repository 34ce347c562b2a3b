import type { ResolvedConfig } from "../config/resolve-config.js";
import type { NodeConfig } from "../config/resolve-nodes.js";
import { DbNode } from "./db-node.js";

/**
 * One node per configured server: the primary and `replica-0`, `replica-1`, ..., as
 * `resolveConfig` set them up. Only replicas a selector chooses between time their statements: the
 * primary is never a candidate, and a lone replica is taken without asking the selector.
 */
export function createNodes(
  config: ResolvedConfig,
  PrismaClient: new (options: never) => unknown,
): { primary: DbNode; replicas: DbNode[] } {
  const chosenAmong = config.timesQueries && config.nodes.replicas.length > 1;
  const node = (settings: NodeConfig, timesQueries: boolean) => new DbNode({ PrismaClient, timesQueries, ...settings });
  return {
    primary: node(config.nodes.primary, false),
    replicas: config.nodes.replicas.map((settings) => node(settings, chosenAmong)),
  };
}

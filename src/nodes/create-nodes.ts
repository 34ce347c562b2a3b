import type { ResolvedConfig } from "../config/resolve-config.js";
import type { NodeConfig } from "../config/resolve-nodes.js";
import { DbNode } from "./db-node.js";

/** One node per configured server: the primary and `replica-0`, `replica-1`, ..., as `resolveConfig` set them up. */
export function createNodes(
  config: ResolvedConfig,
  PrismaClient: new (options: never) => unknown,
): { primary: DbNode; replicas: DbNode[] } {
  const node = (settings: NodeConfig) => new DbNode({ PrismaClient, timesQueries: config.timesQueries, ...settings });
  return { primary: node(config.nodes.primary), replicas: config.nodes.replicas.map(node) };
}

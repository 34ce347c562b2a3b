import type { Cluster } from "../../test/cluster/index.ts";

/**
 * Brings a disrupted cluster back: starts every stopped node, then waits until the replicas have
 * replayed everything the primary wrote (a restarted replica reconnects to the primary by itself).
 */
export async function restoreCluster(cluster: Cluster): Promise<void> {
  for (const node of cluster.nodes) await node.start();
  await cluster.waitForReplicas(60_000);
}

/**
 * Describes an error by what a caller could branch on: class name and code or reason; the start
 * of the message for an error that has neither (pg's "Connection terminated unexpectedly").
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const { code, reason } = error as { code?: unknown; reason?: unknown };
  const detail = [code, reason].filter((part) => typeof part === "string" && part !== "").join(" ");
  if (detail !== "") return `${error.name} ${detail}`;
  const message = error.message.split("\n")[0]?.trim() ?? "";
  return message === "" ? error.name : `${error.name}: ${message.length > 50 ? `${message.slice(0, 47)}...` : message}`;
}

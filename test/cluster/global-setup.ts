import { sweepOrphanedClusters } from "../../src/dev-cluster/sweep.ts";

function sweep(when: string): void {
  const removed = sweepOrphanedClusters();
  if (removed.length > 0)
    console.warn(`Removed ${removed.length} orphaned test cluster(s) ${when}: ${removed.join(", ")}`);
}

/** Vitest global setup: clean up clusters of earlier crashed runs, and of workers that were killed during this one. */
export default function setup(): () => void {
  sweep("left by an earlier run");
  return () => sweep("left by killed test workers");
}

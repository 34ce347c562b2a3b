import type { SplitContext } from "../client/split-context.js";
import { trackBusyConnections } from "../nodes/busy-connections.js";
import { instrumentMetrics } from "./metrics.js";
import { processSignals } from "./signals.js";

/**
 * Starts what runs beside the queries of one createDb(): busy-connection tracking (for the
 * shutdown's last resort), metrics, the lazy pool check and the signal listeners. Each registers
 * its stop function with `context.onClose`.
 */
export function startLifecycle(context: SplitContext): void {
  const settings = context.lifecycle;
  for (const node of context.nodes) trackBusyConnections(node.pool);
  context.onClose(instrumentMetrics(context, settings.metrics));
  context.poolBudget.arm();
  if (settings.shutdown.enabled) {
    context.onClose(processSignals.register(settings.shutdown.signals, (signal) => context.close(signal)));
  }
}

import type { LifecycleSettings } from "../config/lifecycle-options.js";
import { instrumentMetrics, type MetricsSubject } from "./metrics.js";
import type { PoolBudgetCheck } from "./pool-budget-check.js";
import { type PoolPressure, samplePoolPressure } from "./pool-pressure.js";
import { processSignals } from "./signals.js";

/** What the lifecycle starts things for (one createDb()'s SplitState). */
export interface LifecycleSubject extends MetricsSubject {
  readonly lifecycle: LifecycleSettings;
  readonly poolBudget: PoolBudgetCheck;
  readonly poolPressure: PoolPressure;
  onClose(close: () => unknown): () => void;
  shutdown(trigger: string): Promise<void>;
}

/**
 * Starts what runs beside the queries of one createDb(): metrics, the lazy pool check and the
 * signal listeners, the pool-pressure sampler. Each registers its stop function for the final shutdown.
 */
export function startLifecycle(subject: LifecycleSubject): void {
  const settings = subject.lifecycle;
  subject.onClose(instrumentMetrics(subject, settings.metrics));
  subject.poolBudget.arm();
  subject.onClose(samplePoolPressure(subject.nodes, subject.poolPressure));
  if (settings.shutdown.enabled) {
    subject.onClose(processSignals.register(settings.shutdown.signals, (signal) => subject.shutdown(signal)));
  }
}

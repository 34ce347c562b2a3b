import type { SplitContext } from "../client/split-context.js";
import { RESILIENCE_DEFAULTS } from "../config/options.js";
import type { ResolvedResilience } from "../config/resolve-resilience.js";
import { CallPolicy } from "./call-policy.js";
import { NodeGuard } from "./node-guard.js";

/** Gives every node its breaker, bulkhead and retry budget, and the context its call policy. */
export function attachResilience(context: SplitContext, resilience: ResolvedResilience): void {
  for (const node of context.nodes) {
    const bulkhead = resilience.bulkhead && {
      maxQueue: resilience.bulkhead.maxQueue ?? RESILIENCE_DEFAULTS.bulkhead.maxQueue,
    };
    const settings = { breaker: resilience.breaker, bulkhead, budget: resilience.budget };
    if (settings.breaker || settings.bulkhead || settings.budget) {
      node.policy = new NodeGuard(node, settings, context.events);
    }
  }
  context.callPolicy = new CallPolicy(context.router, context.events, context, {
    retry: resilience.retry,
    deadlineMs: resilience.queryTimeoutMs,
  });
}

import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config/defaults.ts";
import { SplitEvents } from "../../src/events.ts";
import type { MetricsSubject } from "../../src/lifecycle/metrics.ts";
import { instrumentMetrics } from "../../src/lifecycle/metrics.ts";

// The events other parts emit (breaker, retry, bulkhead, replica monitor) turn into counters; the
// emitters are stand-ins here, the registry and counters are prom-client's own.
describe("event → prom-client bridge", () => {
  it("counts breaker transitions, retries, shed calls, fallbacks and replica verdicts", async () => {
    const registry = new Registry();
    const events = new SplitEvents();
    const detach = instrumentMetrics({ events, nodes: [] } as unknown as MetricsSubject, {
      ...DEFAULTS.metrics,
      registry,
      prefix: "t_",
      required: true,
    });
    const replica = { role: "replica", node: "replica-1" } as const;
    events.emit("breaker:open", replica);
    events.emit("breaker:halfOpen", replica);
    events.emit("breaker:close", replica);
    events.emit("breaker:open", replica);
    events.emit("retry", { ...replica, attempt: 1, error: new Error("ECONNRESET") });
    events.emit("shed", { role: "primary", node: "primary" });
    events.emit("fallback", { reason: "lagging" });
    events.emit("replica:lagging", { ...replica, lagMs: 9_000, lagBytes: 1 << 20 });
    events.emit("replica:down", { ...replica, lagMs: undefined, lagBytes: undefined });

    const text = await registry.metrics();
    expect(text).toContain('t_breaker_transitions_total{role="replica",node="replica-1",to="open"} 2');
    expect(text).toContain('t_breaker_transitions_total{role="replica",node="replica-1",to="halfOpen"} 1');
    expect(text).toContain('t_breaker_transitions_total{role="replica",node="replica-1",to="closed"} 1');
    expect(text).toContain('t_retries_total{role="replica",node="replica-1"} 1');
    expect(text).toContain('t_shed_total{role="primary",node="primary"} 1');
    expect(text).toContain('t_fallbacks_total{reason="lagging"} 1');
    expect(text).toContain('t_replica_state_changes_total{node="replica-1",state="lagging"} 1');
    expect(text).toContain('t_replica_state_changes_total{node="replica-1",state="down"} 1');

    detach();
    events.emit("shed", { role: "primary", node: "primary" });
    expect(await registry.metrics()).toContain('t_shed_total{role="primary",node="primary"} 1');
  });
});

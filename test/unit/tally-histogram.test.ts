import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { TallyHistogram } from "../../src/lifecycle/tally-histogram.ts";

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVED: Array<[Record<string, string>, number]> = [
  [{ node: "primary", outcome: "ok" }, 0.0004],
  [{ node: "primary", outcome: "ok" }, 0.001],
  [{ node: "primary", outcome: "ok" }, 0.05],
  [{ node: "replica-0", outcome: "error" }, 3],
  [{ node: "primary", outcome: "ok" }, 0.5],
];

describe("TallyHistogram", () => {
  it("exposes exactly what prom-client's own Histogram exposes for the same observations", async () => {
    const reference = new Registry();
    const histogram = new Histogram({
      name: "q_seconds",
      help: "Query time.",
      labelNames: ["node", "outcome"],
      buckets: BOUNDS,
      registers: [reference],
    });
    const tallied = new Registry();
    const tally = new TallyHistogram(tallied, "q_seconds", "Query time.", BOUNDS);
    const series = new Map<string, ReturnType<TallyHistogram["series"]>>();
    for (const [labels, value] of OBSERVED) {
      histogram.observe(labels, value);
      const key = JSON.stringify(labels);
      if (!series.has(key)) series.set(key, tally.series(labels));
      series.get(key)?.observe(value);
    }
    expect(await tallied.metrics()).toBe(await reference.metrics());
    expect(await tallied.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it("leaves out series with nothing observed, and resetMetrics() zeroes it", async () => {
    const registry = new Registry();
    const tally = new TallyHistogram(registry, "q_seconds", "Query time.", BOUNDS);
    tally.series({ node: "idle" });
    tally.series({ node: "busy" }).observe(0.2);
    expect(await registry.metrics()).not.toMatch(/idle/);
    expect(await registry.metrics()).toMatch(/q_seconds_count\{node="busy"\} 1/);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toMatch(/busy/);
  });
});

import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { DurationLabel } from "../../src/config/choices.ts";
import { DEFAULTS } from "../../src/config/defaults.ts";
import { isConfigurationError } from "../../src/errors.ts";
import { SplitEvents } from "../../src/events.ts";
import type { MetricsSubject } from "../../src/lifecycle/metrics.ts";
import { instrumentMetrics } from "../../src/lifecycle/metrics.ts";

const READS = ["findMany", "findUnique", "count"];
const WRITES = ["create", "update"];

interface Shape {
  readonly buckets?: readonly number[];
  readonly labels?: readonly DurationLabel[];
}

/**
 * The query-duration series after an app with `models` models ran each of 5 operations, once
 * ok and once failed: the 3 reads on each of 2 replicas, the 2 writes on the primary.
 */
async function durationSeries(models: number, shape: Shape = {}): Promise<string[]> {
  const registry = new Registry();
  const events = new SplitEvents();
  instrumentMetrics({ events, nodes: [] } as unknown as MetricsSubject, {
    ...DEFAULTS.metrics,
    ...shape,
    registry,
    required: true,
  });
  for (let index = 0; index < models; index++) {
    const model = `model${index}`;
    for (const error of [undefined, new Error("failed")]) {
      const base = { model, durationMs: 3, error } as const;
      for (const node of ["replica-0", "replica-1"])
        for (const operation of READS)
          events.emit("query", { ...base, role: "replica", node, operation, reason: "read" });
      for (const operation of WRITES)
        events.emit("query", { ...base, role: "primary", node: "primary", operation, reason: "write" });
    }
  }
  const text = await registry.metrics();
  return text.split("\n").filter((line) => line.startsWith("prisma_split_query_duration_seconds"));
}

describe("query_duration_seconds: buckets and labels", () => {
  it("by default, 16 label sets × 11 series for 10 models × 5 operations on a primary and 2 replicas, whatever the models", async () => {
    const series = await durationSeries(10);
    // role, node, operation, outcome: (2 replicas × 3 reads + 2 writes) × ok/error = 16 label
    // sets, each 8 buckets + the +Inf bucket + _sum + _count.
    expect(series).toHaveLength(16 * 11);
    expect(series.some((line) => line.includes("model="))).toBe(false);
    expect(await durationSeries(100)).toHaveLength(16 * 11);
    expect(series).toContain(
      'prisma_split_query_duration_seconds_bucket{le="0.005",role="replica",node="replica-0",operation="count",outcome="ok"} 10',
    );
    expect(series.filter((line) => line.includes("_bucket{")).map((line) => /le="([^"]+)"/.exec(line)?.[1])).toEqual(
      expect.arrayContaining(["0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf"]),
    );
  });

  it("grows with the models only when the model label is asked for", async () => {
    const series = await durationSeries(10, { labels: ["operation", "outcome", "model"] });
    expect(series).toHaveLength(10 * 16 * 11);
    expect(series).toContain(
      'prisma_split_query_duration_seconds_count{role="primary",node="primary",operation="update",model="model7",outcome="error"} 1',
    );
  });

  it("drops operation and outcome when left out, and takes its buckets from metrics.buckets", async () => {
    const bare = await durationSeries(10, { labels: [], buckets: [0.01, 0.1, 1] });
    // One label set per node, each 3 buckets + +Inf + _sum + _count.
    expect(bare).toHaveLength(3 * 6);
    expect(bare).toContain('prisma_split_query_duration_seconds_count{role="replica",node="replica-1"} 60');
    expect(bare).toContain('prisma_split_query_duration_seconds_bucket{le="0.01",role="primary",node="primary"} 40');
    const byOutcome = await durationSeries(10, { labels: ["outcome"] });
    expect(byOutcome).toContain(
      'prisma_split_query_duration_seconds_count{role="primary",node="primary",outcome="error"} 20',
    );
    expect(byOutcome).toHaveLength(3 * 2 * 11);
  });

  it("refuses a second client of one registry and prefix whose histogram has another shape", () => {
    const registry = new Registry();
    const subject = { events: new SplitEvents(), nodes: [] } as unknown as MetricsSubject;
    const settings = { ...DEFAULTS.metrics, registry, required: true };
    instrumentMetrics(subject, settings);
    expect(() => instrumentMetrics(subject, { ...settings, labels: ["outcome", "operation"] })).not.toThrow();
    let error: unknown;
    try {
      instrumentMetrics(subject, { ...settings, buckets: [0.1, 1] });
    } catch (caught) {
      error = caught;
    }
    expect(isConfigurationError(error)).toBe(true);
    expect((error as Error).message).toContain('registered "prisma_split_query_duration_seconds" in this registry');
    expect(() => instrumentMetrics(subject, { ...settings, buckets: [0.1, 1], prefix: "other_" })).not.toThrow();
  });
});

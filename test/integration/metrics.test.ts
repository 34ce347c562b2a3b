import { Registry, register } from "prom-client";
import { describe, expect, it } from "vitest";
import { uniqueEmail, useCluster } from "./harness.ts";

type MetricJson = { name: string; values: Array<{ value: number; labels: Record<string, string | number> }> };

async function valuesOf(registry: Registry, name: string): Promise<MetricJson["values"]> {
  const metrics = (await registry.getMetricsAsJSON()) as unknown as MetricJson[];
  return metrics.find((metric) => metric.name === name)?.values ?? [];
}

function valueAt(values: MetricJson["values"], labels: Record<string, string>): number | undefined {
  return values.find((entry) => Object.entries(labels).every(([key, value]) => entry.labels[key] === value))?.value;
}

describe("Prometheus metrics after a known workload on a real primary and replica", () => {
  const { cluster, db } = useCluster(1);

  it("counts exactly what was routed where, and why, with durations by operation and model", async () => {
    const registry = new Registry();
    const client = db({ metrics: { registry, labels: ["operation", "model", "outcome"] } });
    for (let i = 0; i < 5; i++) await client.user.findMany({ take: 1 });
    for (let i = 0; i < 3; i++) await client.user.create({ data: { email: uniqueEmail("metrics") } });
    await client.$primary().user.count();
    await client.$primary().user.count();
    await client.$withPrimary(() => client.user.findFirst());
    for (let i = 0; i < 4; i++) await client.$queryRaw`SELECT 1 AS one`;
    await client.user.create({ data: { email: "not-unique@example.test" } }).catch(() => {});
    await client.user.create({ data: { email: "not-unique@example.test" } }).catch(() => {});

    const routed = await valuesOf(registry, "prisma_split_queries_routed_total");
    expect(valueAt(routed, { node: "replica-0", reason: "read" })).toBe(9);
    expect(valueAt(routed, { node: "primary", reason: "write" })).toBe(5);
    expect(valueAt(routed, { node: "primary", reason: "forced" })).toBe(3);
    expect(routed.reduce((sum, entry) => sum + entry.value, 0)).toBe(17);

    const durations = await valuesOf(registry, "prisma_split_query_duration_seconds");
    const count = (labels: Record<string, string>) =>
      valueAt(
        durations.filter((entry) => String(entry.labels.le ?? "") === "" || entry.labels.le === "+Inf"),
        labels,
      );
    expect(count({ node: "replica-0", operation: "findMany", model: "user", outcome: "ok", le: "+Inf" })).toBe(5);
    expect(count({ node: "primary", operation: "create", model: "user", outcome: "ok", le: "+Inf" })).toBe(4);
    expect(count({ node: "primary", operation: "create", model: "user", outcome: "error", le: "+Inf" })).toBe(1);
    expect(count({ node: "replica-0", operation: "$queryRaw", model: "", outcome: "ok", le: "+Inf" })).toBe(4);

    const pools = await valuesOf(registry, "prisma_split_pool_max_connections");
    expect(valueAt(pools, { node: "primary" })).toBeGreaterThan(0);
    expect(valueAt(await valuesOf(registry, "prisma_split_breaker_state"), { node: "primary", state: "closed" })).toBe(
      1,
    );
    expect(valueAt(await valuesOf(registry, "prisma_split_replica_in_rotation"), { node: "replica-0" })).toBe(1);

    const text = await registry.metrics();
    expect(text).not.toMatch(/SELECT|postgresql:\/\//i);
    console.log(
      text
        .split("\n")
        .filter((line) => /^prisma_split_(queries_routed_total|pool_connections|breaker_state\{.*primary)/.test(line))
        .join("\n"),
    );
  });

  it("two clients share one registry without clashing; a custom prefix, the default registry and metrics: false", async () => {
    const registry = new Registry();
    const options = {
      primaryUrl: `${cluster().primaryUrl}?connection_limit=3`,
      replicaUrls: cluster().replicaUrls,
      metrics: { registry, prefix: "app_db_", buckets: [0.05, 1] },
    };
    const first = db(options);
    const second = db(options);
    await first.user.count();
    await second.user.count();
    expect(
      valueAt(await valuesOf(registry, "app_db_queries_routed_total"), { node: "replica-0", reason: "read" }),
    ).toBe(2);
    // The default labels (no model) and the buckets asked for.
    const durations = await valuesOf(registry, "app_db_query_duration_seconds");
    expect(durations.map((entry) => entry.labels.le).filter((le) => le !== undefined)).toEqual([0.05, 1, "+Inf"]);
    expect(Object.keys(durations[0]?.labels ?? {}).sort()).toEqual(["le", "node", "operation", "outcome", "role"]);
    // Pool gauges add both clients' pools up.
    expect(valueAt(await valuesOf(registry, "app_db_pool_max_connections"), { node: "primary" })).toBe(6);
    // A client shut down for good leaves the registry (a $disconnect()ed one lives on, as in Prisma).
    await first.$shutdown();
    await second.user.count();
    expect(
      valueAt(await valuesOf(registry, "app_db_queries_routed_total"), { node: "replica-0", reason: "read" }),
    ).toBe(3);
    expect(valueAt(await valuesOf(registry, "app_db_pool_max_connections"), { node: "primary" })).toBe(3);

    const silent = db({ metrics: false });
    await silent.user.count();
    expect(await valuesOf(register, "prisma_split_queries_routed_total")).toEqual([]);
    const byDefault = db();
    await byDefault.user.count();
    expect(valueAt(await valuesOf(register, "prisma_split_queries_routed_total"), { reason: "read" })).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { resolveLifecycleOptions } from "../../src/config/lifecycle-options.ts";
import { configRefusal } from "./config-refusal.ts";

function refusal(options: unknown, env: NodeJS.ProcessEnv = {}): { setting: string; message: string } {
  return configRefusal(() => resolveLifecycleOptions(options as never, env));
}

describe("resolveLifecycleOptions", () => {
  it("fills in the defaults: signals on, 10 s drain, metrics if installed, 2 s probes, 1 instance", () => {
    expect(resolveLifecycleOptions({}, {})).toEqual({
      shutdown: { signals: ["SIGTERM", "SIGINT"], timeoutMs: 10_000, enabled: true },
      metrics: {
        registry: undefined,
        prefix: "prisma_split_",
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
        labels: ["operation", "outcome"],
        required: false,
      },
      health: { timeoutMs: 2_000, readiness: "any" },
      poolCheck: { instances: 1, reserved: undefined },
    });
  });

  it("turns groups off with false, and requires prom-client once metrics are configured", () => {
    const settings = resolveLifecycleOptions({ shutdown: false, metrics: false, poolCheck: false }, {});
    expect(settings.shutdown.enabled).toBe(false);
    expect(settings.metrics).toBe(false);
    expect(settings.poolCheck).toBe(false);
    expect(resolveLifecycleOptions({ metrics: { prefix: "app_" } }, {}).metrics).toMatchObject({ required: true });
  });

  it("reads instances from PRISMA_SPLIT_INSTANCES, the option winning", () => {
    expect(resolveLifecycleOptions({}, { PRISMA_SPLIT_INSTANCES: "6" }).poolCheck).toEqual({
      instances: 6,
      reserved: undefined,
    });
    expect(
      resolveLifecycleOptions({ poolCheck: { instances: 2 } }, { PRISMA_SPLIT_INSTANCES: "6" }).poolCheck,
    ).toMatchObject({
      instances: 2,
    });
  });

  it.each([
    [{ shutdown: true }, "shutdown", "must be an options object { signals, timeoutMs } or false, got true"],
    [{ shutdown: { signals: "SIGTERM" } }, "shutdown.signals", 'must be an array of signal names, got "SIGTERM"'],
    [{ shutdown: { signals: ["SIGTERM", "SIGKILL"] } }, "shutdown.signals[1]", 'got "SIGKILL"'],
    [{ shutdown: { signals: ["TERM"] } }, "shutdown.signals[0]", 'like "SIGTERM", got "TERM"'],
    [{ shutdown: { timeoutMs: -1 } }, "shutdown.timeoutMs", "must be a number of milliseconds ≥ 0, got -1"],
    [{ shutdown: { timeoutMs: "5s" } }, "shutdown.timeoutMs", 'got "5s"'],
    [{ metrics: { registry: {} } }, "metrics.registry", "must be a prom-client Registry"],
    [{ metrics: { prefix: "my-app" } }, "metrics.prefix", 'got "my-app"'],
    [{ metrics: { buckets: 0.1 } }, "metrics.buckets", "must be an array of 1 to 50 upper bounds in seconds"],
    [{ metrics: { buckets: [] } }, "metrics.buckets", "got an array"],
    [{ metrics: { buckets: [0.1, 0.1] } }, "metrics.buckets[1]", "must be larger than the bound before it (0.1)"],
    [{ metrics: { buckets: [1, 0.5] } }, "metrics.buckets[1]", "must be larger than the bound before it (1)"],
    [{ metrics: { buckets: [0, 1] } }, "metrics.buckets[0]", "above 0 (+Inf is always added), got 0"],
    [{ metrics: { buckets: [1, Number.POSITIVE_INFINITY] } }, "metrics.buckets[1]", "got Infinity"],
    [{ metrics: { buckets: ["0.1"] } }, "metrics.buckets[0]", 'got "0.1"'],
    [{ metrics: { labels: "model" } }, "metrics.labels", 'must be an array of "operation", "outcome", "model"'],
    [{ metrics: { labels: ["node"] } }, "metrics.labels[0]", '(role and node are always there), got "node"'],
    [{ metrics: { label: ["model"] } }, "metrics.label", "known: registry, prefix, buckets, labels"],
    [{ health: { timeoutMs: Number.POSITIVE_INFINITY } }, "health.timeoutMs", "got Infinity"],
    [{ health: { readiness: "all" } }, "health.readiness", 'must be one of "any", "primary", got "all"'],
    [{ health: { readiness: true } }, "health.readiness", "got true"],
    [{ health: { ready: "any" } }, "health.ready", "known: timeoutMs, readiness"],
    [{ poolCheck: { instances: 0 } }, "poolCheck.instances", "must be a whole number of processes ≥ 1, got 0"],
    [{ poolCheck: { reserved: 2.5 } }, "poolCheck.reserved", "got 2.5"],
  ])("refuses %o, naming %s", (options, setting, message) => {
    const error = refusal(options);
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(message);
  });

  it('reads health.readiness: "any" by default, "primary" when asked', () => {
    expect(resolveLifecycleOptions({ health: { timeoutMs: 500 } }, {}).health).toEqual({
      timeoutMs: 500,
      readiness: "any",
    });
    expect(resolveLifecycleOptions({ health: { readiness: "primary" } }, {}).health.readiness).toBe("primary");
  });

  it("names the environment variable when PRISMA_SPLIT_INSTANCES is bad", () => {
    expect(refusal({}, { PRISMA_SPLIT_INSTANCES: "three" })).toMatchObject({ setting: "PRISMA_SPLIT_INSTANCES" });
  });
});

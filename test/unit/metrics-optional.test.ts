import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config/defaults.ts";
import { isConfigurationError } from "../../src/errors.ts";
import type { MetricsSubject } from "../../src/lifecycle/metrics.ts";
import { instrumentMetrics } from "../../src/lifecycle/metrics.ts";
import { loadPromClient } from "../../src/lifecycle/prom-client.ts";

const notInstalled = () => undefined;
const context = {} as MetricsSubject;

describe("prom-client is optional", () => {
  it("without prom-client and without a metrics option, metrics are silently off", () => {
    const detach = instrumentMetrics(context, { ...DEFAULTS.metrics, required: false }, notInstalled);
    expect(detach()).toBeUndefined();
  });

  it("asking for metrics without prom-client fails at construction, naming the setting", () => {
    let error: unknown;
    try {
      instrumentMetrics(context, { ...DEFAULTS.metrics, required: true }, notInstalled);
    } catch (caught) {
      error = caught;
    }
    expect(isConfigurationError(error)).toBe(true);
    expect((error as Error).message).toContain("metrics: needs prom-client");
  });

  it("loads the installed prom-client lazily, once", () => {
    const first = loadPromClient();
    expect(typeof first?.Registry).toBe("function");
    expect(loadPromClient()).toBe(first);
  });
});

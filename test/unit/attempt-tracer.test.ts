import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { AttemptTracer } from "../../src/resilience/attempt-tracer.ts";

describe("AttemptTracer", () => {
  it("without an SDK (the API alone, as prom-client brings it) hands the attempt's own promise back", () => {
    const tracer = AttemptTracer.create(true);
    expect(tracer).toBeDefined();
    const running = Promise.resolve("rows");
    const decision = { node: {} as never, reason: "read" as const };
    expect(tracer?.run({ operation: "findMany", model: "user" }, decision, () => running)).toBe(running);
  });

  it("is not live without an SDK, and live once one is registered after it was made", async () => {
    const tracer = AttemptTracer.create(true);
    expect(tracer?.live).toBe(false);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    try {
      expect(tracer?.live).toBe(true);
      const decision = {
        node: {
          name: "replica-0",
          role: "replica",
          settings: { connectionString: "postgresql://h:5433/app" },
        } as never,
        reason: "read" as const,
      };
      await tracer?.run({ operation: "findMany", model: "user" }, decision, () => Promise.resolve("rows"));
      expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(["findMany user"]);
    } finally {
      await provider.shutdown();
      trace.disable();
    }
  });

  it("a tracer of the app's own is always live (its sampler decides per span)", () => {
    expect(AttemptTracer.create({ tracer: trace.getTracer("app") })?.live).toBe(true);
  });

  it("tracing: false is no tracer at all", () => {
    expect(AttemptTracer.create(false)).toBeUndefined();
  });
});

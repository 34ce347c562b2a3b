import { describe, expect, it } from "vitest";
import { AttemptTracer } from "../../src/resilience/attempt-tracer.ts";

describe("AttemptTracer", () => {
  it("without an SDK (the API alone, as prom-client brings it) hands the attempt's own promise back", () => {
    const tracer = AttemptTracer.create(true);
    expect(tracer).toBeDefined();
    const running = Promise.resolve("rows");
    const decision = { node: {} as never, reason: "read" as const };
    expect(tracer?.run({ kind: "read", method: "findMany", model: "user" }, decision, () => running)).toBe(running);
  });

  it("tracing: false is no tracer at all", () => {
    expect(AttemptTracer.create(false)).toBeUndefined();
  });
});

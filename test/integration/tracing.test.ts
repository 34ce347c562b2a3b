import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { uniqueEmail, useCluster } from "./harness.ts";

/**
 * OpenTelemetry with the SDK's in-memory exporter: each attempt of a routed call is a client span
 * under the caller's span, saying which node ran it, why, and what went wrong.
 */
const { cluster, db } = useCluster(1);
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const ours = () => exporter.getFinishedSpans().filter((span) => span.attributes["prisma_split.node"] !== undefined);

describe("tracing", () => {
  it("a read and a write: one client span each, under the caller's span, with node, role, reason and server", async () => {
    const app = db({ replicas: { pollIntervalMs: false } });
    const tracer = trace.getTracer("app");
    const email = uniqueEmail("span");
    await tracer.startActiveSpan("GET /users", async (request) => {
      await app.user.create({ data: { email } });
      await app.user.findMany({ where: { email } });
      request.end();
    });
    const request = exporter.getFinishedSpans().find((span) => span.name === "GET /users");
    const [write, read] = ours();
    console.log(
      ours()
        .map((span) => `${span.name} ${JSON.stringify(span.attributes)}`)
        .join("\n"),
    );
    expect(write?.name).toBe("create user");
    expect(write?.kind).toBe(SpanKind.CLIENT);
    expect(write?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(write?.attributes).toMatchObject({
      "db.system.name": "postgresql",
      "db.operation.name": "create",
      "db.collection.name": "user",
      "server.address": "127.0.0.1",
      "server.port": cluster().primary.port,
      "prisma_split.node": "primary",
      "prisma_split.role": "primary",
      "prisma_split.reason": "write",
      "prisma_split.attempt": 1,
    });
    expect(read?.attributes).toMatchObject({
      "server.port": cluster().replicas[0]?.port,
      "prisma_split.node": "replica-0",
      "prisma_split.role": "replica",
      "prisma_split.reason": "read",
    });
    expect(read?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
  });

  it("a read whose replica is down: attempt 1 failed on replica-0 (fault, error), attempt 2 on the primary", async () => {
    const app = db({ replicas: { pollIntervalMs: false }, breaker: false });
    const replica = cluster().replicas[0];
    await replica?.stop();
    try {
      await app.user.count();
    } finally {
      await replica?.start();
    }
    const [failed, answered] = ours();
    console.log(
      ours()
        .map((span) => `${span.name} ${JSON.stringify(span.attributes)} ${JSON.stringify(span.status)}`)
        .join("\n"),
    );
    expect(failed?.attributes).toMatchObject({
      "prisma_split.node": "replica-0",
      "prisma_split.attempt": 1,
      "prisma_split.fault": "node",
    });
    expect(failed?.attributes["error.type"]).toBeTruthy();
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(answered?.attributes).toMatchObject({
      "prisma_split.node": "primary",
      "prisma_split.attempt": 2,
      "prisma_split.reason": "fallback",
    });
    expect(answered?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("tracing: false makes no spans", async () => {
    const app = db({ tracing: false });
    await app.user.count();
    expect(ours()).toEqual([]);
  });
});

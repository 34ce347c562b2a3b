import { createRequire } from "node:module";
import type { Context, ProxyTracerProvider, Span, Tracer } from "@opentelemetry/api";
import type { DbNode } from "../nodes/db-node.js";
import type { RouteDecision } from "../routing/router.js";
import { toAttemptFailure } from "./attempt-failure.js";

type OtelApi = typeof import("@opentelemetry/api");

/** `@opentelemetry/api` if the app has it (an optional peer), else undefined; loaded once. */
let api: OtelApi | null | undefined;
function loadOtel(): OtelApi | undefined {
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)("@opentelemetry/api") as OtelApi;
    } catch {
      api = null;
    }
  }
  return api ?? undefined;
}

/** What a call tells a span: its operation (`findMany`, `$queryRaw`) and, for a model call, its model. */
interface TracedCall {
  readonly operation: string;
  readonly model: string | undefined;
}

const TRACER_NAME = "prisma-split";
const SPAN_KIND_CLIENT = 2; // SpanKind.CLIENT, without importing the enum at load time
const STATUS_ERROR = 2; // SpanStatusCode.ERROR

/**
 * One OpenTelemetry span per attempt of a routed call, active while the node's PrismaClient runs
 * it, so Prisma's own spans (with `@prisma/instrumentation`) nest under it. Attributes follow the
 * database semantic conventions (`db.system.name`, `db.namespace`, `db.operation.name`,
 * `db.collection.name`, `server.address`, `server.port`, `error.type`,
 * `db.response.status_code`) plus the routing: `prisma_split.node`, `.role`, `.reason`,
 * `.attempt` and, on failure, `.fault`.
 */
export class AttemptTracer {
  readonly #api: OtelApi;
  readonly #tracer: Tracer;
  /**
   * While no SDK is registered, `trace.getTracer()` hands out a proxy that starts no-op spans
   * until the global provider gets a delegate: that provider, asked per attempt whether it has one
   * yet (one property read), so an attempt without an SDK builds no span name, span or closure.
   * Cleared for good once it has one (the proxy then keeps the SDK's tracer too).
   */
  #unregistered: ProxyTracerProvider | undefined;
  readonly #attempts = new WeakMap<object, number>();
  readonly #servers = new WeakMap<DbNode, { address: string; port: number; namespace: string }>();

  private constructor(otel: OtelApi, tracer: Tracer, unregistered: ProxyTracerProvider | undefined) {
    this.#api = otel;
    this.#tracer = tracer;
    this.#unregistered = unregistered;
  }

  /** undefined when `@opentelemetry/api` is not installed or tracing is off. */
  static create(option: boolean | { tracer?: unknown }): AttemptTracer | undefined {
    if (option === false) return undefined;
    const otel = loadOtel();
    if (otel === undefined) return undefined;
    const given = typeof option === "object" ? (option.tracer as Tracer | undefined) : undefined;
    if (given !== undefined) return new AttemptTracer(otel, given, undefined);
    // What `trace.getTracer()` does, keeping the provider: its tracer is a ProxyTracer of it
    // exactly when no SDK was registered yet.
    const provider = otel.trace.getTracerProvider();
    const tracer = provider.getTracer(TRACER_NAME);
    const proxied = tracer instanceof otel.ProxyTracer && provider instanceof otel.ProxyTracerProvider;
    return new AttemptTracer(otel, tracer, proxied ? provider : undefined);
  }

  /**
   * False while the tracer can only start non-recording spans (no SDK registered): the attempt
   * then runs untraced, as `run()` would run it after a no-op span. A user's own tracer, or the
   * global one once an SDK is registered, is live (its sampler decides per span).
   */
  get live(): boolean {
    const unregistered = this.#unregistered;
    if (unregistered === undefined) return true;
    if (unregistered.getDelegateTracer(TRACER_NAME) === undefined) return false;
    this.#unregistered = undefined;
    return true;
  }

  run(call: TracedCall, decision: RouteDecision, attempt: () => PromiseLike<unknown>): PromiseLike<unknown> {
    const operation = call.operation;
    const span = this.#tracer.startSpan(call.model ? `${operation} ${call.model}` : operation, {
      kind: SPAN_KIND_CLIENT,
    });
    // No SDK registered (the API alone comes with prom-client) or not sampled: no further cost.
    if (!span.isRecording()) {
      span.end();
      return attempt();
    }
    const attemptNumber = (this.#attempts.get(call) ?? 0) + 1;
    this.#attempts.set(call, attemptNumber);
    const node = decision.node;
    const server = this.#server(node);
    span.setAttributes({
      "db.system.name": "postgresql",
      "db.namespace": server.namespace,
      "db.operation.name": operation,
      ...(call.model ? { "db.collection.name": call.model } : {}),
      "server.address": server.address,
      "server.port": server.port,
      "prisma_split.node": node.name,
      "prisma_split.role": node.role,
      "prisma_split.reason": decision.reason,
      "prisma_split.attempt": attemptNumber,
    });
    const context: Context = this.#api.trace.setSpan(this.#api.context.active(), span);
    // `then` inside the context too: a PrismaPromise starts its work when it is awaited, not before.
    return this.#api.context.with(context, () => {
      let running: PromiseLike<unknown>;
      try {
        running = attempt();
      } catch (error) {
        this.#fail(span, error);
        throw error;
      }
      return running.then(
        (result) => {
          span.end();
          return result;
        },
        (error: unknown) => {
          this.#fail(span, error);
          throw error;
        },
      );
    });
  }

  /** `failure`: an AttemptFailure (classified once, by the node's layer) or a layer's own refusal. */
  #fail(span: Span, failure: unknown): void {
    const { fault, error } = toAttemptFailure(failure);
    const code = sqlState(error);
    span.setAttributes({
      "prisma_split.fault": fault.kind,
      "error.type": code ?? prismaCode(error) ?? (error instanceof Error ? error.name : "error"),
      ...(code === undefined ? {} : { "db.response.status_code": code }),
    });
    // The label, not the message: a driver message may quote the statement's values.
    span.setStatus({ code: STATUS_ERROR, message: fault.label });
    span.end();
  }

  #server(node: DbNode): { address: string; port: number; namespace: string } {
    let server = this.#servers.get(node);
    if (server === undefined) {
      const url = new URL(node.settings.connectionString);
      server = {
        address: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: Number(url.port || 5432),
        namespace: decodeURIComponent(url.pathname.slice(1)),
      };
      this.#servers.set(node, server);
    }
    return server;
  }
}

/** The SQLSTATE a Prisma or pg error carries, if any. */
function sqlState(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === "object" && current !== null && !seen.has(current)) {
    seen.add(current);
    const candidate = current as { code?: unknown; originalCode?: unknown; cause?: unknown; meta?: unknown };
    for (const code of [candidate.originalCode, candidate.code]) {
      if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !/^P\d{4}$/.test(code)) return code;
    }
    const adapter = (candidate.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
    current = adapter ?? candidate.cause;
  }
  return undefined;
}

/** Prisma's own error code (`P1001`, `P2002`), if any. */
function prismaCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^P\d{4}$/.test(code) ? code : undefined;
}

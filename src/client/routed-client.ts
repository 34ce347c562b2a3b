import { type NodeRole, ReplicaWriteError } from "../errors.js";
import { checkHealth, checkReady } from "../lifecycle/health.js";
import type { DbNode } from "../nodes/db-node.js";
import type { CallView } from "../resilience/call-pipeline.js";
import { runWithDeadline } from "../resilience/deadline.js";
import type { ReadYourWrites } from "../routing/consistency/read-your-writes.js";
import {
  isFluentOperation,
  isReadOperation,
  MODEL_OPERATIONS,
  RAW_EXECUTE_METHODS,
  RAW_QUERY_METHODS,
} from "../routing/operations.js";
import { sqlTextOf } from "../routing/raw-sql/sql-text.js";
import type { RouteDecision } from "../routing/router.js";
import { runInSession, runOnPrimary } from "../routing/scope.js";
import { registerView, type SplitState } from "../split-state.js";
import type { ModelShape } from "./prisma-internals.js";
import { type CallRunner, fluentCallClass, RoutedCall } from "./routed-call.js";
import { UnclassifiedRawCall } from "./unclassified-raw-call.js";

/** The node clients a view hands calls to: the base clients, or the same with the user's `$extends`. */
export interface ClientSet {
  readonly primary: unknown;
  readonly replicas: readonly unknown[];
}

type AnyFunction = (...args: unknown[]) => unknown;
type Extendable = { $extends(extension: unknown): unknown };
type Transactional = { $transaction(...args: unknown[]): Promise<unknown> };

/**
 * Runs the calls of one view: hands each to the pipeline, and runs an attempt on the chosen
 * node's client from this view's client set.
 */
class ViewRunner implements CallRunner, CallView<RoutedCall> {
  readonly primaryClient: unknown;
  readonly forced: NodeRole | undefined;
  readonly #state: SplitState;
  readonly #clients: ClientSet;

  constructor(state: SplitState, clients: ClientSet, forced: NodeRole | undefined) {
    this.#state = state;
    this.#clients = clients;
    this.forced = forced;
    this.primaryClient = clients.primary;
  }

  run(call: RoutedCall): Promise<unknown> {
    if (this.forced === "replica" && call.kind === "write")
      return Promise.reject(new ReplicaWriteError(describe(call)));
    const settled = this.#state.pipeline.execute(call, this);
    // A write made in a consistency context settles once read-your-writes has recorded it.
    return call.kind === "write" ? this.#state.readYourWrites.afterWrite(settled) : settled;
  }

  /** One attempt of `call` on the node `decision` names, on this view's client for it. */
  runOn(call: RoutedCall, decision: RouteDecision): PromiseLike<unknown> {
    const client = this.clientOf(decision.node);
    if (!this.#state.events.has("query")) return call.buildOn(client);
    const started = performance.now();
    // `.then()` on Prisma's lazy promise starts the query now and returns Prisma's own native
    // promise; Promise.resolve() of it would add a promise and a microtask before the query starts.
    return this.#observe(call.buildOn(client).then() as Promise<unknown>, decision, call, started);
  }

  /** Runs a `$transaction` on the primary (its own client runs every statement of it); never retried. */
  runTransaction(args: unknown[]): Promise<unknown> {
    const primary = this.#clients.primary as Transactional;
    const observed = this.#state.events.has("query");
    const started = observed ? performance.now() : 0;
    const settled = this.#state.pipeline.transaction(() => primary.$transaction(...args));
    // A transaction counts as a write for read-your-writes.
    return this.#state.readYourWrites.afterWrite(
      observed ? this.#observe(settled, this.#state.router.inTransaction, undefined, started) : settled,
    );
  }

  /** Reports a `query` event when `settled` settles; `call` undefined: a `$transaction`. */
  #observe(
    settled: Promise<unknown>,
    decision: RouteDecision,
    call: RoutedCall | undefined,
    started: number,
  ): Promise<unknown> {
    settled.then(
      () => this.#reportQuery(decision, call, started, undefined),
      (error: unknown) => this.#reportQuery(decision, call, started, error),
    );
    return settled;
  }

  #reportQuery(decision: RouteDecision, call: RoutedCall | undefined, started: number, error: unknown): void {
    const root = call === undefined ? undefined : rootOf(call);
    this.#state.events.emit("query", {
      role: decision.node.role,
      node: decision.node.name,
      operation: root === undefined ? "$transaction" : root.method,
      model: root?.model,
      reason: decision.reason,
      durationMs: performance.now() - started,
      error,
    });
  }

  clientOf(node: DbNode): unknown {
    return node.role === "primary" ? this.#clients.primary : this.#clients.replicas[node.index];
  }
}

function rootOf(call: RoutedCall): RoutedCall {
  let root = call;
  while (root.parent !== undefined) root = root.parent;
  return root;
}

function describe(call: RoutedCall): string {
  const root = rootOf(call);
  return root.model === undefined ? root.method : `${root.model}.${root.method}()`;
}

/**
 * A client with the surface of the user's PrismaClient whose every call is routed. It inherits
 * from the primary's client, so what prisma-split does not route (`$name`, a client extension's
 * own method, `instanceof PrismaClient`) behaves as on the primary.
 */
export function createRoutedClient(
  state: SplitState,
  models: ReadonlyMap<string, ModelShape>,
  clients: ClientSet,
  forced?: NodeRole,
): object {
  const runner = new ViewRunner(state, clients, forced);
  const view = Object.create(clients.primary as object) as Record<string | symbol, unknown>;
  const roleViews = new Map<NodeRole, object>();
  const define = (key: string, value: unknown) =>
    Object.defineProperty(view, key, { value, writable: true, configurable: true, enumerable: false });

  for (const model of models.values()) {
    for (const key of new Set([model.key, model.name])) {
      Object.defineProperty(view, key, {
        configurable: true,
        enumerable: key === model.key,
        get() {
          const delegate = createRoutedDelegate(runner, models, model, clients.primary);
          Object.defineProperty(view, key, { value: delegate, configurable: true, enumerable: key === model.key });
          return delegate;
        },
      });
    }
  }

  for (const method of RAW_QUERY_METHODS) {
    define(method, (...args: unknown[]) => {
      // On $replica() the caller has said the query reads: the SQL check is for everyone else.
      const sql = sqlTextOf(args);
      const kind = forced === "replica" ? "read" : state.rawQueries.known(sql);
      if (kind !== undefined) return new RoutedCall(runner, kind, undefined, method, args);
      return new UnclassifiedRawCall(runner, method, args, () => state.rawQueries.classify(sql as string));
    });
  }
  for (const method of RAW_EXECUTE_METHODS) {
    define(method, (...args: unknown[]) => new RoutedCall(runner, "write", undefined, method, args));
  }

  define("$transaction", (...args: unknown[]) => runner.runTransaction(args));
  define("$events", state.events);
  define("$primary", () => roleView("primary"));
  define("$replica", () => roleView("replica"));
  define("$withPrimary", runOnPrimary);
  define("$withSession", (fn: () => unknown) => runInSession(fn));
  define("$withDeadline", runWithDeadline);
  define("$consistencyToken", () => state.readYourWrites.token());
  define("$withConsistency", (token: string | null | undefined, fn: () => unknown) => {
    const readYourWrites = state.readYourWrites;
    let point: ReturnType<ReadYourWrites["decode"]>;
    try {
      point = readYourWrites.decode(token);
    } catch (error) {
      return Promise.reject(error);
    }
    return runInSession(fn, point === undefined ? undefined : () => readYourWrites.resume(point));
  });
  define("$extends", (extension: unknown) =>
    createRoutedClient(
      state,
      models,
      {
        primary: (clients.primary as Extendable).$extends(extension),
        replicas: clients.replicas.map((client) => (client as Extendable).$extends(extension)),
      },
      forced,
    ),
  );
  define("$connect", async () => {
    await state.whenOpen();
    await Promise.all(state.nodes.map((node) => node.client.$connect()));
  });
  define("$disconnect", () => state.disconnect());
  define("$shutdown", () => state.shutdown("shutdown"));
  define("$health", () => checkHealth(state));
  define("$ready", () => checkReady(state));
  define("$on", (...args: unknown[]) => {
    for (const node of state.nodes) {
      const client = node.client as unknown as { $on?: AnyFunction };
      client.$on?.apply(client, args);
    }
  });

  registerView(view, state);

  function roleView(role: NodeRole): object {
    let existing = roleViews.get(role);
    if (existing === undefined) {
      existing = createRoutedClient(state, models, clients, role);
      roleViews.set(role, existing);
    }
    return existing;
  }

  return view;
}

/**
 * A model delegate (`db.user`) whose operations are routed calls. It inherits from the primary's
 * delegate, so a model extension's own method runs with `this` = this delegate, and the queries
 * it makes through `Prisma.getExtensionContext(this)` are routed too.
 */
function createRoutedDelegate(
  runner: CallRunner,
  models: ReadonlyMap<string, ModelShape>,
  model: ModelShape,
  primaryClient: unknown,
): object {
  const primaryDelegate = (primaryClient as Record<string, object>)[model.key] as object;
  const delegate = Object.create(primaryDelegate) as Record<string, unknown>;
  for (const operation of MODEL_OPERATIONS) {
    const kind = isReadOperation(operation) ? "read" : "write";
    const Call = isFluentOperation(operation) ? fluentCallClass(models, model.name) : RoutedCall;
    Object.defineProperty(delegate, operation, {
      value: (args?: unknown) => new Call(runner, kind, model.key, operation, args),
      writable: true,
      configurable: true,
    });
  }
  return delegate;
}

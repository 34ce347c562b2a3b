import type { NodeRole } from "../errors.js";
import { collectDiagnostics } from "../lifecycle/diagnostics.js";
import { checkHealth, checkReady } from "../lifecycle/health.js";
import type { CallPipeline } from "../resilience/call-pipeline.js";
import { runWithDeadline } from "../resilience/deadline.js";
import type { ReadYourWrites } from "../routing/consistency/read-your-writes.js";
import {
  isFluentOperation,
  isReadOperation,
  MODEL_OPERATIONS,
  RAW_EXECUTE_METHODS,
  RAW_QUERY_METHODS,
} from "../routing/operations.js";
import type { RawQueryClassifier } from "../routing/raw-sql/raw-query-classifier.js";
import { sqlTextOf } from "../routing/raw-sql/sql-text.js";
import { NO_READ_OPTIONS, type ReplicaReadOptions, readReplicaReadOptions } from "../routing/replica-read-options.js";
import { runInConsistencyContext, runOnPrimary, runOnReplica } from "../routing/scope.js";
import { registerView, type SplitState } from "../split-state.js";
import type { ModelShape } from "./prisma-internals.js";
import { type ClientSet, ClientView, fluentCallClass, RoutedCall, TransactionCall } from "./routed-call.js";
import { withTransactionRoles } from "./transaction-client.js";
import { UnclassifiedRawCall } from "./unclassified-raw-call.js";

/** What every view of one createDb() shares. */
export interface RoutedParts {
  readonly state: SplitState;
  readonly pipeline: CallPipeline;
  /** Where each raw query's SQL may run, cached per text. */
  readonly rawQueries: RawQueryClassifier;
  readonly models: ReadonlyMap<string, ModelShape>;
}

type AnyFunction = (...args: unknown[]) => unknown;
type Extendable = { $extends(extension: unknown): unknown };

/**
 * A client with the surface of the user's PrismaClient whose every call is routed. It inherits
 * from the primary's client, so what prisma-split does not route (`$name`, a client extension's
 * own method, `instanceof PrismaClient`) behaves as on the primary.
 */
export function createRoutedClient(
  parts: RoutedParts,
  clients: ClientSet,
  forced?: NodeRole,
  bound?: ReplicaReadOptions,
): object {
  const { state, pipeline, rawQueries, models } = parts;
  const calls = new ClientView(pipeline, clients, forced, bound);
  const view = Object.create(clients.primary as object) as Record<string | symbol, unknown>;
  const roleViews = new Map<NodeRole, object>();
  /** `$replica({ maxLagMs })` views by bound: a handful of distinct bounds in an app, each built once. */
  const boundViews = new Map<number, object>();
  const define = (key: string, value: unknown) =>
    Object.defineProperty(view, key, { value, writable: true, configurable: true, enumerable: false });

  for (const model of models.values()) {
    for (const key of new Set([model.key, model.name])) {
      Object.defineProperty(view, key, {
        configurable: true,
        enumerable: key === model.key,
        get() {
          const delegate = createRoutedDelegate(calls, models, model, clients.primary);
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
      const kind = forced === "replica" ? "read" : rawQueries.known(sql);
      if (kind !== undefined) return new RoutedCall(calls, kind, undefined, method, args);
      return new UnclassifiedRawCall(calls, method, args, () => rawQueries.classify(sql as string));
    });
  }
  for (const method of RAW_EXECUTE_METHODS) {
    define(method, (...args: unknown[]) => new RoutedCall(calls, "write", undefined, method, args));
  }

  define("$transaction", (...args: unknown[]) =>
    pipeline.execute(new TransactionCall(calls, withTransactionRoles(args))),
  );
  define("$events", state.events);
  define("$primary", () => roleView("primary"));
  define("$replica", (options?: unknown) => {
    const asked = options === undefined ? NO_READ_OPTIONS : readReplicaReadOptions("$replica(options)", options);
    return asked.maxLagMs === undefined ? roleView("replica") : boundView(asked.maxLagMs);
  });
  define("$withPrimary", runOnPrimary);
  define("$withReplica", (first: unknown, second?: unknown) => {
    const [options, fn] = typeof first === "function" ? [undefined, first] : [first, second];
    if (typeof fn !== "function") {
      return Promise.reject(
        new TypeError("prisma-split: $withReplica(fn) or $withReplica(options, fn) takes a function"),
      );
    }
    let asked: ReplicaReadOptions;
    try {
      asked = options === undefined ? NO_READ_OPTIONS : readReplicaReadOptions("$withReplica(options)", options);
    } catch (error) {
      return Promise.reject(error);
    }
    return runOnReplica(asked, fn as () => unknown);
  });
  define("$withSession", (fn: () => unknown) => runInConsistencyContext(fn));
  define("$withDeadline", runWithDeadline);
  define("$consistencyToken", () => state.readYourWrites.token());
  define("$withConsistency", (token: string | null | undefined, fn: () => unknown) => {
    const readYourWrites = state.readYourWrites;
    let point: ReturnType<ReadYourWrites["decode"]>;
    try {
      point = readYourWrites.decode(token);
    } catch (error) {
      if (state.events.has("consistency:token-refused")) {
        state.events.emit("consistency:token-refused", {
          source: "$withConsistency",
          reason: (error as Error).message,
        });
      }
      return Promise.reject(error);
    }
    return runInConsistencyContext(fn, point === undefined ? undefined : () => readYourWrites.resume(point));
  });
  define("$extends", (extension: unknown) =>
    createRoutedClient(
      parts,
      {
        primary: (clients.primary as Extendable).$extends(extension),
        replicas: clients.replicas.map((client) => (client as Extendable).$extends(extension)),
      },
      forced,
      bound,
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
  define("$diagnostics", () => collectDiagnostics(state));
  define("$on", (...args: unknown[]) => {
    for (const node of state.nodes) {
      const client = node.client as unknown as { $on?: AnyFunction };
      client.$on?.apply(client, args);
    }
  });

  registerView(view, state);

  function boundView(maxLagMs: number): object {
    let existing = boundViews.get(maxLagMs);
    if (existing === undefined) {
      existing = createRoutedClient(parts, clients, "replica", { maxLagMs });
      // A bound computed per request would grow the map without end: past a few, build each anew.
      if (boundViews.size < 32) boundViews.set(maxLagMs, existing);
    }
    return existing;
  }

  function roleView(role: NodeRole): object {
    let existing = roleViews.get(role);
    if (existing === undefined) {
      existing = createRoutedClient(parts, clients, role);
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
  calls: ClientView,
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
      value: (args?: unknown) => new Call(calls, kind, model.key, operation, args),
      writable: true,
      configurable: true,
    });
  }
  return delegate;
}

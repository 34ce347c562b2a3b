import type { NodeRole } from "../errors.js";
import type { DbNode } from "../nodes/db-node.js";
import type { CallPipeline, PipelineCall } from "../resilience/call-pipeline.js";
import type { ReplicaReadOptions } from "../routing/replica-read-options.js";
import type { QueryKind } from "../routing/router.js";
import type { ModelShape } from "./prisma-internals.js";

/** The node clients a view hands calls to: the base clients, or the same with the user's `$extends`. */
export interface ClientSet {
  readonly primary: unknown;
  readonly replicas: readonly unknown[];
}

/**
 * What the calls of one client view share: the pipeline they run through, the role the view tags
 * them with (`$primary()`, `$replica()`), and the node clients an attempt runs on.
 */
export class ClientView {
  readonly pipeline: CallPipeline;
  readonly forced: NodeRole | undefined;
  /** What a `$replica(options)` view asked of its replicas; undefined for every other view. */
  readonly bound: ReplicaReadOptions | undefined;
  readonly clients: ClientSet;

  constructor(
    pipeline: CallPipeline,
    clients: ClientSet,
    forced: NodeRole | undefined,
    bound?: ReplicaReadOptions | undefined,
  ) {
    this.pipeline = pipeline;
    this.clients = clients;
    this.forced = forced;
    this.bound = bound;
  }

  /** This view's client of `node` (with the user's extensions). */
  clientOf(node: DbNode): unknown {
    return node.role === "primary" ? this.clients.primary : this.clients.replicas[node.index];
  }
}

type AnyFunction = (...args: unknown[]) => unknown;
interface PrismaPromiseLike extends PromiseLike<unknown> {
  requestTransaction?(spec: unknown): PromiseLike<unknown>;
  readonly spec?: unknown;
}

/**
 * A lazy, routed PrismaPromise. Like Prisma's own it does nothing until awaited; then it goes
 * through the pipeline, which runs each attempt on a node's own client, so the call pays one
 * Prisma pipeline. In a batch `$transaction([...])` Prisma asks for `requestTransaction` instead,
 * and the call is built on the primary's client, whose transaction it then joins.
 */
export class RoutedCall implements PromiseLike<unknown>, PipelineCall {
  readonly kind: QueryKind;
  /** Delegate key (`user`) of a model call; undefined for a client method (`$queryRaw`) and a fluent step. */
  readonly delegateKey: string | undefined;
  /** Operation (`findMany`), client method (`$queryRaw`) or, for a fluent step, relation name. */
  readonly method: string;
  /** The argument of a model call; the argument list of a client method. */
  readonly args: unknown;
  /** The call a fluent step continues (`findUnique(...)` for `.posts()`). */
  readonly parent: RoutedCall | undefined;
  readonly view: ClientView;
  #result: Promise<unknown> | undefined;

  constructor(
    view: ClientView,
    kind: QueryKind,
    model: string | undefined,
    method: string,
    args: unknown,
    parent?: RoutedCall,
  ) {
    this.view = view;
    this.kind = kind;
    this.delegateKey = model;
    this.method = method;
    this.args = args;
    this.parent = parent;
  }

  get forced(): NodeRole | undefined {
    return this.view.forced;
  }

  get bound(): ReplicaReadOptions | undefined {
    return this.view.bound;
  }

  /**
   * Prisma batches the `findUnique`s (and their fluent steps) made in one tick on one client into
   * one statement: a hedge must not cancel a statement other calls share.
   */
  get batchable(): boolean {
    const method = this.operation;
    return method === "findUnique" || method === "findUniqueOrThrow";
  }

  /** The root call's operation (`findUnique` for `findUnique(...).posts()`). */
  get operation(): string {
    return rootOf(this).method;
  }

  /** The root call's delegate key (`user`); undefined for a client method. */
  get model(): string | undefined {
    return rootOf(this).delegateKey;
  }

  /** One attempt: the same call built on `node`'s client; `then` starts Prisma's lazy promise. */
  startOn(node: DbNode): PromiseLike<unknown> {
    return this.buildOn(this.view.clientOf(node));
  }

  /** Builds the same call on a concrete node's client; Prisma's promise stays lazy. */
  buildOn(client: unknown): PrismaPromiseLike {
    if (this.parent !== undefined) {
      const step = this.parent.buildOn(client) as unknown as Record<string, AnyFunction>;
      return (step[this.method] as AnyFunction)(this.args) as PrismaPromiseLike;
    }
    if (this.delegateKey === undefined) {
      const target = client as Record<string, AnyFunction>;
      return (target[this.method] as AnyFunction).apply(client, this.args as unknown[]) as PrismaPromiseLike;
    }
    const delegate = (client as Record<string, Record<string, AnyFunction>>)[this.delegateKey] as Record<
      string,
      AnyFunction
    >;
    return (delegate[this.method] as AnyFunction)(this.args) as PrismaPromiseLike;
  }

  // biome-ignore lint/suspicious/noThenProperty: this object is a promise on purpose, as Prisma's are
  then<T = unknown, E = never>(
    onFulfilled?: ((value: unknown) => T | PromiseLike<T>) | null,
    onRejected?: ((reason: unknown) => E | PromiseLike<E>) | null,
  ): Promise<T | E> {
    this.#result ??= this.view.pipeline.execute(this);
    return this.#result.then(onFulfilled, onRejected);
  }

  catch<E = never>(onRejected?: ((reason: unknown) => E | PromiseLike<E>) | null): Promise<unknown> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    this.#result ??= this.view.pipeline.execute(this);
    return this.#result.finally(onFinally);
  }

  /** Called by `$transaction([...])` on the primary: the call joins that batch there. */
  requestTransaction(spec: unknown): PromiseLike<unknown> {
    const onPrimary = this.buildOn(this.view.clients.primary);
    return onPrimary.requestTransaction ? onPrimary.requestTransaction(spec) : onPrimary;
  }

  get spec(): unknown {
    return this.buildOn(this.view.clients.primary).spec;
  }

  get [Symbol.toStringTag](): string {
    return "PrismaPromise";
  }
}

function rootOf(call: RoutedCall): RoutedCall {
  let root = call;
  while (root.parent !== undefined) root = root.parent;
  return root;
}

/** A `$transaction` (batch or interactive): one task on the primary's client, which runs every statement of it. */
export class TransactionCall implements PipelineCall {
  readonly kind = "transaction";
  readonly forced = undefined;
  readonly batchable = false;
  readonly operation = "$transaction";
  readonly model = undefined;
  readonly #view: ClientView;
  readonly #args: unknown[];

  constructor(view: ClientView, args: unknown[]) {
    this.#view = view;
    this.#args = args;
  }

  startOn(node: DbNode): PromiseLike<unknown> {
    const client = this.#view.clientOf(node) as { $transaction(...args: unknown[]): Promise<unknown> };
    return client.$transaction(...this.#args);
  }
}

const fluentClasses = new WeakMap<ReadonlyMap<string, ModelShape>, Map<string, typeof RoutedCall>>();

/**
 * The RoutedCall class for a call that returns one `model` record: it has a method per relation
 * (`.posts(args)`), each a further routed step that keeps the root call's node and kind.
 */
export function fluentCallClass(models: ReadonlyMap<string, ModelShape>, model: string): typeof RoutedCall {
  let byModel = fluentClasses.get(models);
  if (byModel === undefined) {
    byModel = new Map();
    fluentClasses.set(models, byModel);
  }
  const existing = byModel.get(model);
  if (existing !== undefined) return existing;

  const FluentCall = class extends RoutedCall {};
  byModel.set(model, FluentCall);
  for (const [relation, related] of models.get(model)?.relations ?? []) {
    Object.defineProperty(FluentCall.prototype, relation, {
      configurable: true,
      writable: true,
      value: function (this: RoutedCall, args?: unknown) {
        const Next = fluentCallClass(models, related);
        return new Next(this.view, this.kind, undefined, relation, args, this);
      },
    });
  }
  return FluentCall;
}

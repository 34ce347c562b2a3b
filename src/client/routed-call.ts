import type { QueryKind } from "../routing/router.js";
import type { ModelShape } from "./prisma-internals.js";

/** What a routed call needs from the client view that made it. */
export interface CallRunner {
  run(call: RoutedCall): Promise<unknown>;
  /** The primary's client as this view sees it (with the user's extensions). */
  readonly primaryClient: unknown;
}

type AnyFunction = (...args: unknown[]) => unknown;
interface PrismaPromiseLike extends PromiseLike<unknown> {
  requestTransaction?(spec: unknown): PromiseLike<unknown>;
  readonly spec?: unknown;
}

/**
 * A lazy, routed PrismaPromise. Like Prisma's own it does nothing until awaited; then it picks
 * a node and hands the call to that node's own client, so the call pays one Prisma pipeline.
 * In a batch `$transaction([...])` Prisma asks for `requestTransaction` instead, and the call
 * is built on the primary's client, whose transaction it then joins.
 */
export class RoutedCall implements PromiseLike<unknown> {
  readonly kind: QueryKind;
  /** Delegate key (`user`) for a model call; undefined for a client method (`$queryRaw`). */
  readonly model: string | undefined;
  /** Operation (`findMany`), client method (`$queryRaw`) or, for a fluent step, relation name. */
  readonly method: string;
  /** The argument of a model call; the argument list of a client method. */
  readonly args: unknown;
  /** The call a fluent step continues (`findUnique(...)` for `.posts()`). */
  readonly parent: RoutedCall | undefined;
  readonly runner: CallRunner;
  #result: Promise<unknown> | undefined;

  constructor(
    runner: CallRunner,
    kind: QueryKind,
    model: string | undefined,
    method: string,
    args: unknown,
    parent?: RoutedCall,
  ) {
    this.runner = runner;
    this.kind = kind;
    this.model = model;
    this.method = method;
    this.args = args;
    this.parent = parent;
  }

  /**
   * Prisma batches the `findUnique`s (and their fluent steps) made in one tick on one client into
   * one statement: a hedge must not cancel a statement other calls share.
   */
  get batchable(): boolean {
    const method = this.parent === undefined ? this.method : rootMethod(this);
    return method === "findUnique" || method === "findUniqueOrThrow";
  }

  /** Builds the same call on a concrete node's client; Prisma's promise stays lazy. */
  buildOn(client: unknown): PrismaPromiseLike {
    if (this.parent !== undefined) {
      const step = this.parent.buildOn(client) as unknown as Record<string, AnyFunction>;
      return (step[this.method] as AnyFunction)(this.args) as PrismaPromiseLike;
    }
    if (this.model === undefined) {
      const target = client as Record<string, AnyFunction>;
      return (target[this.method] as AnyFunction).apply(client, this.args as unknown[]) as PrismaPromiseLike;
    }
    const delegate = (client as Record<string, Record<string, AnyFunction>>)[this.model] as Record<string, AnyFunction>;
    return (delegate[this.method] as AnyFunction)(this.args) as PrismaPromiseLike;
  }

  // biome-ignore lint/suspicious/noThenProperty: this object is a promise on purpose, as Prisma's are
  then<T = unknown, E = never>(
    onFulfilled?: ((value: unknown) => T | PromiseLike<T>) | null,
    onRejected?: ((reason: unknown) => E | PromiseLike<E>) | null,
  ): Promise<T | E> {
    this.#result ??= this.runner.run(this);
    return this.#result.then(onFulfilled, onRejected);
  }

  catch<E = never>(onRejected?: ((reason: unknown) => E | PromiseLike<E>) | null): Promise<unknown> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    this.#result ??= this.runner.run(this);
    return this.#result.finally(onFinally);
  }

  /** Called by `$transaction([...])` on the primary: the call joins that batch there. */
  requestTransaction(spec: unknown): PromiseLike<unknown> {
    const onPrimary = this.buildOn(this.runner.primaryClient);
    return onPrimary.requestTransaction ? onPrimary.requestTransaction(spec) : onPrimary;
  }

  get spec(): unknown {
    return this.buildOn(this.runner.primaryClient).spec;
  }

  get [Symbol.toStringTag](): string {
    return "PrismaPromise";
  }
}

function rootMethod(call: RoutedCall): string {
  let root = call;
  while (root.parent !== undefined) root = root.parent;
  return root.method;
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
        return new Next(this.runner, this.kind, undefined, relation, args, this);
      },
    });
  }
  return FluentCall;
}

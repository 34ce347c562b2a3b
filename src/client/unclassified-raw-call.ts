import type { QueryKind } from "../routing/router.js";
import { type ClientView, RoutedCall } from "./routed-call.js";

/**
 * A raw query whose SQL text has not been classified yet (its first call): as lazy as any routed
 * call, it classifies when awaited, then runs as the RoutedCall of the kind found. In a batch
 * `$transaction([...])` it joins the primary's transaction as every RoutedCall does, unclassified.
 *
 * @example
 * new UnclassifiedRawCall(view, "$queryRaw", args, () => classifier.classify(sql));
 */
export class UnclassifiedRawCall extends RoutedCall {
  readonly #classify: () => Promise<QueryKind>;
  #result: Promise<unknown> | undefined;

  constructor(view: ClientView, method: string, args: unknown[], classify: () => Promise<QueryKind>) {
    // Until classified it counts as what an unknown raw query is: a write.
    super(view, "write", undefined, method, args);
    this.#classify = classify;
  }

  // biome-ignore lint/suspicious/noThenProperty: this object is a promise on purpose, as Prisma's are
  override then<T = unknown, E = never>(
    onFulfilled?: ((value: unknown) => T | PromiseLike<T>) | null,
    onRejected?: ((reason: unknown) => E | PromiseLike<E>) | null,
  ): Promise<T | E> {
    return this.#run().then(onFulfilled, onRejected);
  }

  override finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.#run().finally(onFinally);
  }

  #run(): Promise<unknown> {
    this.#result ??= this.#classify().then((kind) =>
      this.view.pipeline.execute(new RoutedCall(this.view, kind, undefined, this.method, this.args)),
    );
    return this.#result;
  }
}

import { AsyncLocalStorage } from "node:async_hooks";

/** The part of a createDb() client this needs. */
interface QueryEventSource {
  readonly $events: {
    on(name: "query", listener: (event: { readonly node: string; readonly error: unknown }) => void): () => void;
  };
}

/** The response header naming the nodes that answered a request's queries. */
export const SERVED_BY_HEADER = "x-served-by";

/**
 * Collects, per request, which nodes answered its queries (`primary`, `replica-0`, ...), for an
 * `x-served-by` response header. It is exact under concurrency: prisma-split emits the `query`
 * event from the promise chain of the call that ran the query, i.e. in that call's async context,
 * so an AsyncLocalStorage entered for a request sees exactly that request's queries.
 *
 * @example
 * const servedBy = new ServedBy(db);
 * const nodes: string[] = [];
 * servedBy.run(nodes, next); // every query of the request adds its node to `nodes`
 * response.setHeader(SERVED_BY_HEADER, ServedBy.header(nodes));
 */
export class ServedBy {
  readonly #requests = new AsyncLocalStorage<string[]>();
  readonly #unsubscribe: () => void;

  constructor(db: QueryEventSource) {
    this.#unsubscribe = db.$events.on("query", (event) => {
      // A failed attempt (a retried read, a refused write) did not serve the request.
      if (event.error === undefined) this.#requests.getStore()?.push(event.node);
    });
  }

  /** Runs `fn` (the rest of the request) so that its queries' nodes are appended to `nodes`. */
  run<T>(nodes: string[], fn: () => T): T {
    return this.#requests.run(nodes, fn);
  }

  /** Stops listening to the client's events. */
  stop(): void {
    this.#unsubscribe();
  }

  /** The header value: each node once, in the order they first answered; undefined when none did. */
  static header(nodes: readonly string[]): string | undefined {
    return nodes.length === 0 ? undefined : [...new Set(nodes)].join(", ");
  }
}

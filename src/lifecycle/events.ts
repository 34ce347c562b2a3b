import { EventEmitter } from "node:events";
import type { NodeRole } from "../errors.js";
import type { RouteReason } from "../routing/router.js";

/**
 * Every event prisma-split emits on `db.$events`, with its payload. Listeners run synchronously
 * on the query's path: keep them cheap.
 */
export interface SplitEventMap {
  /** A query settled on a node. */
  query: [QueryEvent];
}

export interface QueryEvent {
  readonly role: NodeRole;
  /** `primary`, `replica-0`, ... */
  readonly node: string;
  /** `findMany`, `$queryRaw`, ... */
  readonly operation: string;
  /** `User`'s delegate key (`user`); undefined for raw queries. */
  readonly model: string | undefined;
  readonly reason: RouteReason;
  readonly durationMs: number;
  readonly error: unknown;
}

type Listener<Args extends unknown[]> = (...args: Args) => void;

/** A typed EventEmitter; `on()` returns a function that removes the listener. */
export class SplitEvents {
  readonly #emitter = new EventEmitter();

  on<Name extends keyof SplitEventMap>(name: Name, listener: Listener<SplitEventMap[Name]>): () => void {
    this.#emitter.on(name, listener as Listener<unknown[]>);
    return () => this.off(name, listener);
  }

  once<Name extends keyof SplitEventMap>(name: Name, listener: Listener<SplitEventMap[Name]>): () => void {
    this.#emitter.once(name, listener as Listener<unknown[]>);
    return () => this.off(name, listener);
  }

  off<Name extends keyof SplitEventMap>(name: Name, listener: Listener<SplitEventMap[Name]>): void {
    this.#emitter.off(name, listener as Listener<unknown[]>);
  }

  /** Whether anyone listens: lets the hot path skip building a payload nobody reads. */
  has(name: keyof SplitEventMap): boolean {
    return this.#emitter.listenerCount(name) > 0;
  }

  emit<Name extends keyof SplitEventMap>(name: Name, ...args: SplitEventMap[Name]): void {
    this.#emitter.emit(name, ...args);
  }
}

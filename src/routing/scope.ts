import { AsyncLocalStorage } from "node:async_hooks";
import { ConsistencySession } from "./consistency/session-state.js";
import type { ReplicaReadOptions } from "./replica-read-options.js";

/**
 * What the async context of a call says about routing (`db.$withPrimary(fn)`,
 * `db.$withReplica(fn)`, `db.$withSession(fn)`).
 */
export interface RoutingScope {
  readonly primary: boolean;
  /** Inside `$withReplica(options, fn)`: reads may go to replicas (also with `reads: "primary"`), so bounded. */
  readonly replica?: ReplicaReadOptions | undefined;
  /** The consistency context (a request) the call belongs to, if any. */
  readonly session?: ConsistencySession;
}

export const routingScope = new AsyncLocalStorage<RoutingScope>();

/**
 * Runs `fn` so that every query it starts, however deep, goes to the primary. A lazy promise
 * that `fn` returns unawaited (`() => db.user.findMany()`) is started inside the scope too:
 * awaited later, outside it, it would no longer see the scope.
 */
export function runOnPrimary<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  const current = routingScope.getStore();
  return runIn({ ...current, primary: true, replica: undefined }, fn);
}

/**
 * Runs `fn` so that the reads it starts, however deep, may go to a replica (with `reads:
 * "primary"` too) within `options`; its writes still go to the primary. The innermost of
 * `$withPrimary` and `$withReplica` decides.
 */
export function runOnReplica<T>(options: ReplicaReadOptions, fn: () => T | PromiseLike<T>): Promise<T> {
  const current = routingScope.getStore();
  return runIn({ ...current, primary: false, replica: options }, fn);
}

/**
 * Runs `fn` in a consistency context: writes made in it are seen by its later reads. Inside one
 * already, `fn` joins it (a helper opening its own session inside a request keeps the request's).
 * `enter` runs first, inside the context (`$withConsistency` seeds it from a token there).
 */
export function runInSession<T>(fn: () => T | PromiseLike<T>, enter?: () => void): Promise<T> {
  const current = routingScope.getStore();
  const scope =
    current?.session !== undefined ? current : { primary: false, ...current, session: new ConsistencySession() };
  return runIn(scope, () => {
    enter?.();
    return fn();
  });
}

function runIn<T>(scope: RoutingScope, fn: () => T | PromiseLike<T>): Promise<T> {
  return routingScope.run(scope, () => {
    try {
      return Promise.resolve(startNow(fn()));
    } catch (error) {
      return Promise.reject(error);
    }
  });
}

function startNow<T>(result: T | PromiseLike<T>): T | PromiseLike<T> {
  const thenable = result as PromiseLike<T> | undefined;
  return typeof thenable?.then === "function" ? thenable.then((value) => value) : result;
}

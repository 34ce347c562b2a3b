import { AsyncLocalStorage } from "node:async_hooks";

/** What the async context of a call says about routing (`db.$withPrimary(fn)`). */
export interface RoutingScope {
  readonly primary: boolean;
}

export const routingScope = new AsyncLocalStorage<RoutingScope>();

const PRIMARY_SCOPE: RoutingScope = Object.freeze({ primary: true });

/**
 * Runs `fn` so that every query it starts, however deep, goes to the primary. A lazy promise
 * that `fn` returns unawaited (`() => db.user.findMany()`) is started inside the scope too:
 * awaited later, outside it, it would no longer see the scope.
 */
export function runOnPrimary<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return routingScope.run(PRIMARY_SCOPE, () => {
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

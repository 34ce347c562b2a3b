import { ReplicaInTransactionError } from "../errors.js";

/**
 * `$transaction`'s arguments with an interactive transaction's callback given a `tx` that has
 * `$primary()` (the transaction itself: every statement of it runs on its one connection of the
 * primary) and `$replica()` (a ReplicaInTransactionError, thrown at once). A batch passes as is.
 */
export function withTransactionRoles(args: unknown[]): unknown[] {
  const [callback, ...rest] = args;
  if (typeof callback !== "function") return args;
  return [(tx: object) => callback(transactionClient(tx)), ...rest];
}

/**
 * Prisma's transaction client behind a Proxy that adds the two methods. A Proxy, not properties
 * defined on `tx`: Prisma's transaction client is itself a proxy over the client, and a property
 * defined on it may land on the client every transaction shares.
 */
function transactionClient(tx: object): object {
  const client: object = new Proxy(tx, {
    get(target, key) {
      if (key === "$primary") return primary;
      if (key === "$replica") return replica;
      // The transaction client as `this`, as Prisma made it.
      return Reflect.get(target, key, target);
    },
    has(target, key) {
      return key === "$primary" || key === "$replica" || Reflect.has(target, key);
    },
  });
  const primary = () => client;
  return client;
}

function replica(): never {
  throw new ReplicaInTransactionError();
}

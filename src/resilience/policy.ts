/** What a policy runs: `action(context)`; the context is passed along, so no closure is made per call. */
export type Action<C, T> = (context: C) => PromiseLike<T>;

/**
 * One layer of a node's failure handling (bulkhead, breaker) or the node itself: cockatiel's
 * `execute(fn, context)` shape. A node's layers are composed once, each holding the next.
 */
export interface Policy {
  execute<C, T>(action: Action<C, T>, context: C): Promise<T>;
}

import type { Types } from "@prisma/client/runtime/client";
import type { SplitEvents } from "../events.js";
import type { HealthReport } from "../lifecycle/health.js";

/** Methods prisma-split adds to the client. */
export interface SplitMethods<Client> {
  /** A client bound to the primary: every call, read or write, runs there. */
  $primary(): SplitClient<Client>;
  /**
   * A client bound to the replicas: reads run on one of them (or on the primary when none can
   * serve and `replicas.fallbackToPrimary` is on); writes are refused.
   */
  $replica(): SplitClient<Client>;
  /** Runs `fn`; every query it starts, however deep in its async calls, goes to the primary. */
  $withPrimary<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one consistency context (a request; not a database session): with
   * `consistency.readYourWrites` on, reads in it see its own writes (see `consistency`) and never
   * an older state than an earlier read of it saw (monotonic reads). Outside any context each
   * call stands alone; inside one already, `fn` joins it. The HTTP middleware opens one per request.
   *
   * @example
   * await db.$withSession(async () => {
   *   await db.user.update({ where: { id }, data: { name } });
   *   return db.user.findUnique({ where: { id } }); // sees the new name
   * });
   */
  $withSession<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * The current context's read-your-writes position and monotonic-reads state (the replica it
   * reads from, a bound of what it saw) as an opaque string (versioned), to hand to the client
   * (header, cookie) and back to `$withConsistency` on its next request, on any app instance.
   * `undefined` outside a context, or when there is nothing to carry.
   */
  $consistencyToken(): string | undefined;
  /**
   * Runs `fn` in a consistency context that starts from `token` (from `$consistencyToken()`,
   * here or on another app instance), so its reads see the writes the token stands for, and
   * nothing older than what its reads saw. An empty or missing token just opens a context; one
   * that does not parse rejects with a `ConsistencyTokenError` before `fn` runs (and
   * `consistency:token-refused` is emitted).
   *
   * @example
   * const body = await db.$withConsistency(req.get("x-consistency-token"), () => handle(req));
   */
  $withConsistency<T>(token: string | null | undefined, fn: () => T | Promise<T>): Promise<T>;
  /**
   * Runs `fn`; every call it starts, however deep in its async calls, ends by `bound` (ms from
   * now, or when the signal aborts), attempts and back-off waits included. When it expires the
   * call rejects with a 503 `DatabaseUnavailableError` (`reason: "deadline"`) and its running
   * statement is cancelled on the server; one still waiting for a connection is never sent.
   * Transactions are bounded by their own options (`timeout`, `maxWait`), not by this.
   *
   * @example
   * const user = await db.$withDeadline(req.signal ?? 2_000, () => db.user.findUnique({ where: { id } }));
   */
  $withDeadline<T>(bound: number | AbortSignal, fn: () => T | Promise<T>): Promise<T>;
  /** Typed events: `db.$events.on("query", (e) => console.log(e.node, e.operation))`. */
  readonly $events: SplitEvents;
  /**
   * Probes every node (a real query through its pool) and reports reachability, latency, role,
   * breaker, pool and lag; `ready` is what a readiness probe should answer.
   */
  $health(): Promise<HealthReport>;
  /**
   * Readiness alone: shutdown has not begun and the instance can serve (any node answers a
   * query; the primary, with `health.readiness: "primary"`).
   */
  $ready(): Promise<boolean>;
  /**
   * The final, graceful shutdown, for apps whose framework owns the signals (terminus,
   * lightship, close-with-grace): refuses new calls with a 503 `shutting-down`, drains in-flight
   * queries, closes every client, pool, breaker and timer. Idempotent. (`$disconnect()` is
   * Prisma's: it drains and closes too, and the next query opens everything again.)
   */
  $shutdown(): Promise<void>;
}

type HookOf<Client> = Client extends { $extends: infer Hook } ? Hook : never;
type ExtArgsOf<Client> = HookOf<Client> extends { extArgs: infer Args extends Record<string, any> } ? Args : never;
type TypeMapCbOf<Client> =
  HookOf<Client> extends Types.Extensions.ExtendsHook<"extends", infer Cb, any, any> ? Cb : never;

/** The user's client arguments with prisma-split's methods as a client component, so they survive `$extends`. */
type SplitExtArgs<Client> = ExtArgsOf<Client> & {
  client: { [Method in keyof SplitMethods<Client>]: () => SplitMethods<Client>[Method] };
};

/**
 * The type of `createDb()`'s result: the user's own PrismaClient type (every model, every
 * operation, every extension applied later with `$extends`) plus {@link SplitMethods}.
 */
export type SplitClient<Client> = [TypeMapCbOf<Client>] extends [never]
  ? Client & SplitMethods<Client>
  : TypeMapCbOf<Client> extends Types.Extensions.TypeMapCbDef
    ? Types.Extensions.DynamicClientExtensionThis<
        Types.Utils.Call<TypeMapCbOf<Client>, { extArgs: SplitExtArgs<Client> }>,
        TypeMapCbOf<Client>,
        SplitExtArgs<Client>
      >
    : Client & SplitMethods<Client>;

import type { ITXClientDenyList, Types } from "@prisma/client/runtime/client";
import type { SplitEvents } from "../events.js";
import type { DiagnosticsReport } from "../lifecycle/diagnostics.js";
import type { HealthReport } from "../lifecycle/health.js";
import type { ReplicaReadOptions } from "../routing/replica-read-options.js";

/** What a transaction client does not have: prisma-split's methods ($primary and $replica come back in its own form). */
type SplitOnlyMethod = keyof SplitMethods<unknown>;

/** Methods prisma-split adds to the client. */
export interface SplitMethods<Client> {
  /** A client bound to the primary: every call, read or write, runs there. */
  $primary(): SplitClient<Client>;
  /**
   * A client bound to the replicas: reads run on one of them (or on the primary when none can
   * serve and `replicas.fallbackToPrimary` is on); writes are refused. With `reads: "primary"`,
   * the way to opt a read into a replica. `maxLagMs`: only a replica the monitor last saw at most
   * that far behind, else the primary (the `query` event's reason is then `max-lag`).
   *
   * @example
   * const feed = await db.$replica({ maxLagMs: 500 }).post.findMany({ take: 20 });
   */
  $replica(options?: ReplicaReadOptions): SplitClient<Client>;
  /** Runs `fn`; every query it starts, however deep in its async calls, goes to the primary. */
  $withPrimary<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * Runs `fn`; the reads it starts, however deep in its async calls, may go to a replica (also
   * with `reads: "primary"`), within `options.maxLagMs` when given; its writes go to the primary.
   * The innermost of `$withPrimary` and `$withReplica` decides.
   *
   * @example
   * const report = await db.$withReplica({ maxLagMs: 2_000 }, () => buildReport(db));
   */
  $withReplica<T>(fn: () => T | Promise<T>): Promise<T>;
  $withReplica<T>(options: ReplicaReadOptions, fn: () => T | Promise<T>): Promise<T>;
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
   * What an operator asks when requests wait: `$health()` plus, per node, its server's version
   * and activity (this app's role's sessions, the oldest open transaction; read on a connection
   * of its own, outside the pool), its pool's use and busy spell, and advice in plain words
   * where a threshold is crossed. Served by `healthHandlers(db, { diagnosticsToken })`.
   */
  $diagnostics(): Promise<DiagnosticsReport>;
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

type SplitTypeMap<Client> = Types.Utils.Call<TypeMapCbOf<Client>, { extArgs: SplitExtArgs<Client> }>;

/** Prisma's transaction options; `Level`: the isolation levels of the user's provider. */
interface TransactionOptions<Level> {
  maxWait?: number;
  timeout?: number;
  isolationLevel?: Level;
}

/** `db.$transaction`: Prisma's, with prisma-split's transaction client in the interactive form. */
export interface SplitTransaction<Db, Level> {
  <P extends Types.Public.PrismaPromise<any>[]>(
    arg: [...P],
    options?: TransactionOptions<Level>,
  ): Promise<Types.Utils.UnwrapTuple<P>>;
  <R>(fn: (tx: SplitTransactionClient<Db>) => Promise<R>, options?: TransactionOptions<Level>): Promise<R>;
}

/**
 * The `tx` of `db.$transaction(async (tx) => ...)`: Prisma's transaction client. Every statement
 * runs on the transaction's one connection of the primary, so `tx.$primary()` is `tx` itself and
 * `tx.$replica()` throws a `ReplicaInTransactionError`.
 */
export type SplitTransactionClient<Db> = Omit<Db, ITXClientDenyList | SplitOnlyMethod> & TransactionRoles<Db>;

/** `tx.$primary()` and `tx.$replica()` (see {@link SplitTransactionClient}). */
export interface TransactionRoles<Db> {
  /** The transaction itself: it already runs on the primary. */
  $primary(): SplitTransactionClient<Db>;
  /**
   * Throws a `ReplicaInTransactionError`: the transaction runs on one connection of the primary,
   * and a replica would see neither its uncommitted writes nor its snapshot.
   */
  $replica(): never;
}

/**
 * The type of `createDb()`'s result: the user's own PrismaClient type (every model, every
 * operation, every extension applied later with `$extends`) plus {@link SplitMethods}.
 */
export type SplitClient<Client> = [TypeMapCbOf<Client>] extends [never]
  ? Client & SplitMethods<Client>
  : TypeMapCbOf<Client> extends Types.Extensions.TypeMapCbDef
    ? WithSplitTransaction<
        Types.Extensions.DynamicClientExtensionThis<
          Types.Utils.Call<TypeMapCbOf<Client>, { extArgs: SplitExtArgs<Client> }>,
          TypeMapCbOf<Client>,
          SplitExtArgs<Client>
        >,
        SplitTypeMap<Client>
      >
    : Client & SplitMethods<Client>;

/**
 * `db.$transaction` typed with {@link SplitTransactionClient}. A client extended further gets
 * Prisma's own `$transaction` back from `$extends`: its `tx` has the extensions, and `tx.$primary()`
 * is typed as the client's (at run time it is `tx` there too).
 */
type WithSplitTransaction<Db, TypeMap> = {
  $transaction: SplitTransaction<Db, TypeMap extends { meta: { txIsolationLevel: infer Level } } ? Level : never>;
} & Db;

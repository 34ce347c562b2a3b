import type { Pool, QueryConfig } from "pg";
import type { ConnectionSettings } from "../config/connection-url.js";
import { type BusyConnection, busyConnections, trackBusyConnections } from "./busy-connections.js";
import { closeUnknownSessions, isServerAnswer, markUnansweredCommit, type SessionAware } from "./connection-reuse.js";
import { loadDriver } from "./driver.js";
import { mergeOverUrl } from "./pool-config.js";
import { isServerTextQuery } from "./server-text.js";
import { type StatementTicket, statementTickets } from "./statement-ticket.js";

/** pg's client-side read timeout for a statement inside a transaction: none (setTimeout's largest delay). */
const NO_READ_TIMEOUT = 2_147_483_647;

/** The ticket of a bounded call, carried on the query config from the pool to the connection. */
const TICKET = Symbol("prisma-split.ticket");

type TicketedQuery = QueryConfig & { [TICKET]?: StatementTicket; query_timeout?: number };
type Callback = (error: Error | null, result?: unknown) => void;

/**
 * A `pg` pool that honours Prisma's URL parameters. pg-pool has one timeout for both waiting for
 * a free connection and opening one, so the pool carries `pool_timeout` and the client class
 * carries `connect_timeout`.
 *
 * Its connections also:
 * - close instead of going back to the pool when their session state is not known: inside a
 *   transaction whose COMMIT or ROLLBACK did not succeed, after a statement that was not answered,
 *   after a cancel request the server did not confirm (connection-reuse.ts);
 * - lift the `statement_timeout` prisma-split set (`settings.statementBoundMs`) inside a
 *   transaction, in the same round trip as `BEGIN`, and pg's read timeout with it: a
 *   transaction is bounded by Prisma's own transaction options (`timeout`, `maxWait`);
 * - report which connection runs the statement of a bounded call (`$withDeadline`), so an
 *   expired call's statement can be cancelled on the server.
 *
 * The pool itself keeps the callers that wait for a connection, so that a node found hung can
 * answer them at once instead of at `pool_timeout` (`abandon()`).
 */
/** A pool that can stop waiting on a server that does not answer. */
export interface AbandonablePool {
  /**
   * Answers every caller still waiting for a connection with `error` (they were never sent), and
   * closes every connection in use (their statements fail at once). Returns how many it ended.
   */
  abandon(error: Error): number;
}

/**
 * Told how long each statement took on its connection, from sending it to its answer (the wait
 * for a free connection excluded): the server's own answer time, which a node's latency keeps
 * for the `"fastest"` selector. `answered` is false when it failed without an answer of the
 * server's (a cut connection, pg's read timeout).
 */
export type StatementTimer = (ms: number, answered: boolean) => void;

export function createPool(
  settings: ConnectionSettings,
  nodeName: string,
  onIdleError: (error: Error) => void,
  onStatement?: StatementTimer,
): Pool & AbandonablePool {
  const { pg } = loadDriver();
  const connectTimeoutMs = settings.connectTimeoutMs;
  const liftsBound = settings.statementBoundMs !== undefined;
  // Behind PgBouncer no server bound is ours to lift, but pg's read timeout still is.
  const tracksTransactions = liftsBound || settings.pgbouncer;

  class NodeClient extends pg.Client implements SessionAware {
    /** From BEGIN until a COMMIT or ROLLBACK the server answered with success. */
    #inTransaction = false;
    /** Something happened to the session that the client cannot know the effect of. */
    #stateUnknown = false;

    constructor(config: PgClientConfig) {
      // pg-pool hides `password` (non-enumerable): a spread would drop a password function.
      super({ ...config, password: config.password, connectionTimeoutMillis: connectTimeoutMs });
    }

    get reusable(): boolean {
      if (this.#inTransaction || this.#stateUnknown) return false;
      // pg ≥ 8.21 keeps the server's own transaction status (from ReadyForQuery): a raw BEGIN too.
      const status = (this as { getTransactionStatus?: () => string | null }).getTransactionStatus?.();
      return status === undefined || status === null || status === "I";
    }

    override query(config: any, values?: any, callback?: any): any {
      if (typeof config !== "object" || config === null || typeof config.text !== "string") {
        return super.query(config, values, callback);
      }
      const query = config as TicketedQuery;
      const text = query.text;
      if (text === "COMMIT" || text === "ROLLBACK") return this.#endTransaction(query, values, callback);
      if (text === "BEGIN") {
        this.#inTransaction = true;
        // A simple-protocol query (no parameters) may carry two statements: no extra round trip.
        // SET LOCAL ends with the transaction: PgBouncer's transaction mode is fine with it.
        if (liftsBound) query.text = "BEGIN; SET LOCAL statement_timeout = 0";
      }
      if (this.#inTransaction && tracksTransactions) query.query_timeout = NO_READ_TIMEOUT;
      return this.#send(query, values, callback);
    }

    /**
     * A COMMIT or ROLLBACK keeps the node's read timeout: one the server does not answer must end,
     * never hang. Only a successful answer makes the connection reusable; an unanswered COMMIT is
     * marked, so the caller learns that its transaction's outcome is unknown.
     */
    #endTransaction(query: TicketedQuery, values: unknown, callback: unknown): unknown {
      const commit = query.text === "COMMIT";
      const settled = (error: unknown) => {
        if (error === null || error === undefined) {
          this.#inTransaction = false;
        } else if (!isServerAnswer(error)) {
          this.#stateUnknown = true;
          if (commit) markUnansweredCommit(error);
        }
      };
      const done = typeof values === "function" ? values : callback;
      if (typeof done === "function") {
        const observed: Callback = (error, result) => {
          settled(error);
          (done as Callback)(error, result);
        };
        return typeof values === "function"
          ? this.#send(query, observed, undefined)
          : this.#send(query, values, observed);
      }
      const result = this.#send(query, values, undefined) as Promise<unknown> | undefined;
      result?.then(
        () => settled(undefined),
        (error: unknown) => settled(error),
      );
      return result;
    }

    #send(query: TicketedQuery, values: unknown, callback: unknown): unknown {
      if (onStatement !== undefined) return this.#timed(onStatement, query, values, callback);
      return this.#sendNow(query, values, callback);
    }

    /** Sends the statement and reports how long its answer took (only the `"fastest"` selector's nodes pay for it). */
    #timed(timer: StatementTimer, query: TicketedQuery, values: unknown, callback: unknown): unknown {
      const sentAt = performance.now();
      const report = (error: unknown) => timer(performance.now() - sentAt, error == null || isServerAnswer(error));
      const done = typeof values === "function" ? values : callback;
      if (typeof done === "function") {
        const observed: Callback = (error, result) => {
          report(error);
          (done as Callback)(error, result);
        };
        return typeof values === "function"
          ? this.#sendNow(query, observed, undefined)
          : this.#sendNow(query, values, observed);
      }
      const result = this.#sendNow(query, values, undefined) as Promise<unknown> | undefined;
      result?.then(
        () => report(undefined),
        (error: unknown) => report(error),
      );
      return result;
    }

    #sendNow(query: TicketedQuery, values: unknown, callback: unknown): unknown {
      const ticket = query[TICKET];
      if (ticket === undefined) return super.query(query as never, values as never, callback as never);
      const done = typeof values === "function" ? values : callback;
      if (ticket.expired) {
        // The call gave up while this statement waited for a connection: it is never sent.
        process.nextTick(done as Callback, new Error("prisma-split: the call's deadline expired before it was sent"));
        return undefined;
      }
      const connection = this as unknown as BusyConnection;
      ticket.running(connection);
      const finish: Callback = (error, result) => {
        ticket.done(connection);
        const cancelling = ticket.cancelling;
        if (cancelling === undefined) {
          (done as Callback)(error, result);
          return;
        }
        // The connection goes back to the pool only once the server has read the cancel request;
        // one that may still arrive would cancel this connection's next statement.
        void cancelling.then((outcome) => {
          if (outcome === "unconfirmed") this.#stateUnknown = true;
          (done as Callback)(error, result);
        });
      };
      return typeof values === "function"
        ? super.query(query as never, finish)
        : super.query(query as never, values as never, finish);
    }
  }

  class NodePool extends pg.Pool implements AbandonablePool {
    /** Callers waiting for a connection (none was idle when they asked): `abandon()` answers them. */
    readonly #waiting = new Set<(error: Error) => void>();

    override query(config: any, values?: any, callback?: any): any {
      // Read here, in the caller's async context: the connection may be handed over later, from
      // another call's context.
      const ticket = statementTickets.getStore();
      if (ticket !== undefined && typeof config === "object" && config !== null && !isServerTextQuery(config)) {
        (config as TicketedQuery)[TICKET] = ticket;
      }
      return super.query(config, values, callback);
    }

    override connect(callback?: any): any {
      // An idle connection is handed over at once: nothing to wait for, nothing to track.
      if (this.idleCount > 0 || this.ending) return super.connect(callback);
      if (callback === undefined) {
        return new Promise((resolve, reject) => {
          this.connect((error: Error | undefined, client: unknown) => (error ? reject(error) : resolve(client)));
        });
      }
      let answered = false;
      const giveUp = (error: Error) => {
        if (answered) return;
        answered = true;
        this.#waiting.delete(giveUp);
        callback(error);
      };
      this.#waiting.add(giveUp);
      super.connect((error: Error | undefined, client?: { release(): void }, release?: () => void) => {
        if (answered) {
          // Given up on while it waited: the connection it got goes back unused.
          if (client !== undefined) (release ?? (() => client.release()))();
          return;
        }
        answered = true;
        this.#waiting.delete(giveUp);
        callback(error, client, release);
      });
      return undefined;
    }

    abandon(error: Error): number {
      const waiting = [...this.#waiting];
      for (const giveUp of waiting) giveUp(error);
      const busy = busyConnections(this);
      // end() cuts the socket of a connection whose statement is still running.
      for (const client of busy) client.end().catch(() => {});
      return waiting.length + busy.length;
    }
  }

  const ours = {
    max: settings.poolMax,
    connectionTimeoutMillis: settings.poolTimeoutMs,
    // Visible in pg_stat_activity; a user's own application_name in the URL wins.
    fallback_application_name: `prisma-split/${nodeName}`,
    // PgBouncer refuses the `options` startup parameter; Prisma's own queries name the schema anyway.
    ...(settings.schema === undefined || settings.pgbouncer ? {} : { options: `-c search_path="${settings.schema}"` }),
  };
  const pool = new NodePool({
    ...mergeOverUrl(settings.connectionString, ours, settings.driver),
    Client: NodeClient,
  } as unknown as PgPoolConfig);
  // An idle client's error (server restart, network cut) is emitted on the pool; without a
  // listener Node would crash the process.
  pool.on("error", onIdleError);
  trackBusyConnections(pool);
  closeUnknownSessions(pool);
  return pool;
}

type PgClientConfig = ConstructorParameters<ReturnType<typeof loadDriver>["pg"]["Client"]>[0] & object;
type PgPoolConfig = ConstructorParameters<ReturnType<typeof loadDriver>["pg"]["Pool"]>[0];

import type { Pool, QueryConfig } from "pg";
import type { ConnectionSettings } from "../config/connection-url.js";
import { type BusyConnection, trackBusyConnections } from "./busy-connections.js";
import { loadDriver } from "./driver.js";
import { mergeOverUrl } from "./pool-config.js";
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
 * - lift the `statement_timeout` prisma-split set (`settings.statementBoundMs`) inside a
 *   transaction, in the same round trip as `BEGIN`, and pg's read timeout with it: a
 *   transaction is bounded by Prisma's own transaction options (`timeout`, `maxWait`);
 * - report which connection runs the statement of a bounded call (`$withDeadline`), so an
 *   expired call's statement can be cancelled on the server.
 */
export function createPool(settings: ConnectionSettings, nodeName: string, onIdleError: (error: Error) => void): Pool {
  const { pg } = loadDriver();
  const connectTimeoutMs = settings.connectTimeoutMs;
  const liftsBound = settings.statementBoundMs !== undefined;
  // Behind PgBouncer no server bound is ours to lift, but pg's read timeout still is.
  const tracksTransactions = liftsBound || settings.pgbouncer;

  class NodeClient extends pg.Client {
    #inTransaction = false;

    constructor(config: PgClientConfig) {
      // pg-pool hides `password` (non-enumerable): a spread would drop a password function.
      super({ ...config, password: config.password, connectionTimeoutMillis: connectTimeoutMs });
    }

    override query(config: any, values?: any, callback?: any): any {
      if (typeof config !== "object" || config === null || typeof config.text !== "string") {
        return super.query(config, values, callback);
      }
      const query = config as TicketedQuery;
      if (tracksTransactions) this.#trackTransaction(query);
      const ticket = query[TICKET];
      if (ticket === undefined) return super.query(query as never, values, callback);
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
        if (cancelling === undefined) (done as Callback)(error, result);
        // The connection goes back to the pool only once the server has read the cancel request.
        else void cancelling.then(() => (done as Callback)(error, result));
      };
      return typeof values === "function"
        ? super.query(query as never, finish)
        : super.query(query as never, values, finish);
    }

    #trackTransaction(query: TicketedQuery): void {
      const text = query.text;
      if (text === "BEGIN") {
        this.#inTransaction = true;
        // A simple-protocol query (no parameters) may carry two statements: no extra round trip.
        // SET LOCAL ends with the transaction: PgBouncer's transaction mode is fine with it.
        if (liftsBound) query.text = "BEGIN; SET LOCAL statement_timeout = 0";
      } else if (text === "COMMIT" || text === "ROLLBACK") {
        this.#inTransaction = false;
      }
      if (this.#inTransaction) query.query_timeout = NO_READ_TIMEOUT;
    }
  }

  class NodePool extends pg.Pool {
    override query(config: any, values?: any, callback?: any): any {
      // Read here, in the caller's async context: the connection may be handed over later, from
      // another call's context.
      const ticket = statementTickets.getStore();
      if (ticket !== undefined && typeof config === "object" && config !== null) {
        (config as TicketedQuery)[TICKET] = ticket;
      }
      return super.query(config, values, callback);
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
  return pool;
}

type PgClientConfig = ConstructorParameters<ReturnType<typeof loadDriver>["pg"]["Client"]>[0] & object;
type PgPoolConfig = ConstructorParameters<ReturnType<typeof loadDriver>["pg"]["Pool"]>[0];

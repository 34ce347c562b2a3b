/**
 * Errors thrown by prisma-split. Each has a fixed `code` and a `Symbol.for` brand, so the
 * `isX()` guards work even when two copies of the package are loaded (undici's habit).
 */

const CONFIGURATION_ERROR = Symbol.for("prisma-split.ConfigurationError");
const DATABASE_UNAVAILABLE = Symbol.for("prisma-split.DatabaseUnavailableError");
const CONSISTENCY_TOKEN_ERROR = Symbol.for("prisma-split.ConsistencyTokenError");
const REPLICA_WRITE_ERROR = Symbol.for("prisma-split.ReplicaWriteError");
const DATABASE_CONFIGURATION_ERROR = Symbol.for("prisma-split.DatabaseConfigurationError");
const REPLICA_IN_TRANSACTION_ERROR = Symbol.for("prisma-split.ReplicaInTransactionError");

/**
 * A setting passed to `createDb()` (or read from the environment) is missing or invalid.
 * The message names the setting; connection URLs in it never show a password.
 *
 * @example
 * try { createDb({ PrismaClient, primaryUrl: "mysql://db/app" }) }
 * catch (e) { if (isConfigurationError(e)) console.error(e.setting, e.message) }
 */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
  readonly code = "PRISMA_SPLIT_CONFIG";
  readonly [CONFIGURATION_ERROR] = true;
  /** The option or URL parameter at fault, e.g. `replicaUrls[1]` or `primaryUrl?connection_limit`. */
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`prisma-split: ${setting}: ${message}`);
    this.setting = setting;
  }
}

/** True for a {@link ConfigurationError}, from any copy of prisma-split. */
export function isConfigurationError(error: unknown): error is ConfigurationError {
  return typeof error === "object" && error !== null && CONFIGURATION_ERROR in error;
}

export type NodeRole = "primary" | "replica";

/**
 * Why a call could not be served: `breaker-open` (the node failed repeatedly; refused without
 * I/O), `retries-exhausted`, `shutting-down`, `overloaded` (no connection would free up within
 * `pool_timeout`), `unreachable` (the node failed and the call may not be retried), `deadline`
 * (the call's `$withDeadline` / `queryTimeoutMs` ran out; its statement was cancelled),
 * `primary-moving` (the primary was demoted or is gone and prisma-split is finding the new writer;
 * the write was not run, so it is safe to send again after `retryAfterSeconds`).
 */
export type UnavailableReason =
  | "breaker-open"
  | "retries-exhausted"
  | "shutting-down"
  | "overloaded"
  | "unreachable"
  | "deadline"
  | "primary-moving";

/**
 * What became of the call's writes when it failed with a 503:
 * - `not-applied`: nothing of it took effect on any server: it was refused before it was sent
 *   (`breaker-open`, `overloaded`, `primary-moving`, `shutting-down` before it started, a refused
 *   connection), it only read, or its transaction ended without a COMMIT (rolled back). Safe to send again.
 * - `unknown`: a write (or a transaction's COMMIT) was sent and no answer came: it may have taken
 *   effect. Send it again only with an idempotency key, or check first.
 */
export type CallOutcome = "not-applied" | "unknown";

export interface DatabaseUnavailableErrorOptions {
  role: NodeRole;
  reason: UnavailableReason;
  /** What became of the call's writes (see CallOutcome). */
  outcome: CallOutcome;
  /** When a retry can be expected to succeed; defaults to 1 s. */
  retryAfterSeconds?: number;
  cause?: unknown;
  /** Name of the node that failed, e.g. `replica-1`. */
  node?: string;
}

/**
 * The database cannot serve this call right now. Web frameworks answer it with HTTP 503 and
 * a `Retry-After` header (`status` and `statusCode` are 503 for them).
 *
 * @example
 * app.use((err, req, res, next) => {
 *   if (!isDatabaseUnavailable(err)) return next(err);
 *   res.set("Retry-After", String(err.retryAfterSeconds)).status(503).json({ error: err.code });
 * });
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = "DatabaseUnavailableError";
  readonly code = "DATABASE_UNAVAILABLE";
  readonly status = 503;
  readonly statusCode = 503;
  readonly [DATABASE_UNAVAILABLE] = true;
  readonly role: NodeRole;
  readonly reason: UnavailableReason;
  /**
   * `not-applied`: nothing of the call took effect, it is safe to send again; `unknown`: a write
   * or COMMIT was sent and not answered, it may have taken effect (see CallOutcome).
   */
  readonly outcome: CallOutcome;
  readonly retryAfterSeconds: number;
  readonly node: string | undefined;

  constructor(message: string, options: DatabaseUnavailableErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.role = options.role;
    this.reason = options.reason;
    this.outcome = options.outcome;
    this.retryAfterSeconds = Math.max(1, Math.ceil(options.retryAfterSeconds ?? 1));
    this.node = options.node;
  }
}

/** True for a {@link DatabaseUnavailableError}, from any copy of prisma-split. */
export function isDatabaseUnavailable(error: unknown): error is DatabaseUnavailableError {
  return typeof error === "object" && error !== null && DATABASE_UNAVAILABLE in error;
}

/**
 * A string given to `db.$withConsistency(token, fn)` is not a token `db.$consistencyToken()`
 * made (garbled, truncated, or from an incompatible version). Tokens usually come from clients
 * (a header or cookie): the HTTP middleware ignores a bad one instead of failing the request.
 *
 * @example
 * try { await db.$withConsistency(req.get("x-consistency-token"), handler) }
 * catch (e) { if (isConsistencyTokenError(e)) res.status(400).send(e.message) }
 */
export class ConsistencyTokenError extends Error {
  override readonly name = "ConsistencyTokenError";
  readonly code = "PRISMA_SPLIT_CONSISTENCY_TOKEN";
  readonly [CONSISTENCY_TOKEN_ERROR] = true;
}

/** True for a {@link ConsistencyTokenError}, from any copy of prisma-split. */
export function isConsistencyTokenError(error: unknown): error is ConsistencyTokenError {
  return typeof error === "object" && error !== null && CONSISTENCY_TOKEN_ERROR in error;
}

/**
 * A write was sent through `db.$replica()`, which only reads. Nothing was sent to any server.
 *
 * @example
 * await db.$replica().user.create({ data }) // rejects: ReplicaWriteError
 */
export class ReplicaWriteError extends Error {
  override readonly name = "ReplicaWriteError";
  readonly code = "PRISMA_SPLIT_REPLICA_WRITE";
  readonly [REPLICA_WRITE_ERROR] = true;
  /** `User.create()`, `$executeRaw`, ... */
  readonly operation: string;

  constructor(operation: string) {
    super(`prisma-split: ${operation} writes, and db.$replica() only reads: use db (or db.$primary()) for writes`);
    this.operation = operation;
  }
}

/** True for a {@link ReplicaWriteError}, from any copy of prisma-split. */
export function isReplicaWriteError(error: unknown): error is ReplicaWriteError {
  return typeof error === "object" && error !== null && REPLICA_WRITE_ERROR in error;
}

/**
 * `tx.$replica()` was called inside an interactive transaction. A transaction runs on one
 * connection of the primary, and a read elsewhere would not see its uncommitted writes nor be
 * part of its snapshot. Nothing was sent to any server.
 *
 * @example
 * await db.$transaction(async (tx) => tx.$replica()); // throws ReplicaInTransactionError
 */
export class ReplicaInTransactionError extends Error {
  override readonly name = "ReplicaInTransactionError";
  readonly code = "PRISMA_SPLIT_REPLICA_IN_TRANSACTION";
  readonly [REPLICA_IN_TRANSACTION_ERROR] = true;

  constructor() {
    super(
      "prisma-split: tx.$replica() inside an interactive transaction: the transaction runs on one connection of " +
        "the primary, and a replica would see neither its uncommitted writes nor its snapshot; read through tx, " +
        "or use db.$replica() outside the transaction",
    );
  }
}

/** True for a {@link ReplicaInTransactionError}, from any copy of prisma-split. */
export function isReplicaInTransactionError(error: unknown): error is ReplicaInTransactionError {
  return typeof error === "object" && error !== null && REPLICA_IN_TRANSACTION_ERROR in error;
}

/**
 * What a server refused about how it is reached: a fault no retry or wait can mend. Or
 * `password-function`: the node's `password` function threw, rejected or returned no string, so
 * no connection could be opened (a read goes to another node meanwhile).
 */
export type DatabaseConfigurationProblem =
  | "authentication"
  | "unknown-database"
  | "ssl"
  | "startup-parameter"
  | "password-function";

/**
 * A server refused the connection for a reason of configuration (wrong password or role,
 * a database that does not exist, SSL required or refused, a bad certificate). It is not an
 * outage: never retried, never counted against a node's breaker, never a 503. The message
 * names the node and the cause; it never shows a password.
 *
 * @example
 * catch (e) { if (isDatabaseConfigurationError(e)) log.fatal(e.problem, e.node, e.message) }
 */
export class DatabaseConfigurationError extends Error {
  override readonly name = "DatabaseConfigurationError";
  readonly code = "PRISMA_SPLIT_DATABASE_CONFIG";
  readonly [DATABASE_CONFIGURATION_ERROR] = true;
  readonly problem: DatabaseConfigurationProblem;
  readonly role: NodeRole;
  readonly node: string;

  constructor(
    message: string,
    options: { problem: DatabaseConfigurationProblem; role: NodeRole; node: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.problem = options.problem;
    this.role = options.role;
    this.node = options.node;
  }
}

/** True for a {@link DatabaseConfigurationError}, from any copy of prisma-split. */
export function isDatabaseConfigurationError(error: unknown): error is DatabaseConfigurationError {
  return typeof error === "object" && error !== null && DATABASE_CONFIGURATION_ERROR in error;
}

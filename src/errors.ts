/**
 * Errors thrown by prisma-split. Each has a fixed `code` and a `Symbol.for` brand, so the
 * `isX()` guards work even when two copies of the package are loaded (undici's habit).
 */

const CONFIGURATION_ERROR = Symbol.for("prisma-split.ConfigurationError");
const DATABASE_UNAVAILABLE = Symbol.for("prisma-split.DatabaseUnavailableError");
const CONSISTENCY_TOKEN_ERROR = Symbol.for("prisma-split.ConsistencyTokenError");

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

export type UnavailableReason = "breaker-open" | "retries-exhausted" | "shutting-down" | "overloaded" | "unreachable";

export interface DatabaseUnavailableErrorOptions {
  role: NodeRole;
  reason: UnavailableReason;
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
  readonly retryAfterSeconds: number;
  readonly node: string | undefined;

  constructor(message: string, options: DatabaseUnavailableErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.role = options.role;
    this.reason = options.reason;
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

export type { SplitClient, SplitMethods } from "./client/types.js";
export {
  type BreakerOptions,
  type BulkheadOptions,
  type CreateDbOptions,
  RESILIENCE_DEFAULTS,
  type ReplicaOptions,
  type RetryBudgetOptions,
  type RetryOptions,
} from "./config/options.js";
export { redactUrl } from "./config/redact.js";
export { createDb } from "./create-db.js";
export {
  ConfigurationError,
  DatabaseUnavailableError,
  type DatabaseUnavailableErrorOptions,
  isConfigurationError,
  isDatabaseUnavailable,
  type NodeRole,
  type UnavailableReason,
} from "./errors.js";
export { databaseUnavailableMiddleware } from "./http/express.js";
export { databaseUnavailableErrorHandler } from "./http/fastify.js";
export { sendDatabaseUnavailable } from "./http/node-http.js";
export { type UnavailableBody, type UnavailableResponse, unavailableResponse } from "./http/unavailable-response.js";
export { classifyFault, type Fault, type FaultKind } from "./resilience/classify-fault.js";
export { isReadOnlySql } from "./routing/read-only-sql.js";
export type { ReplicaCandidate, ReplicaSelector, SelectionStrategy } from "./routing/selectors/index.js";

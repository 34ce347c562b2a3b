export type { SplitClient, SplitMethods } from "./client/types.js";
export type {
  HealthOptions,
  MetricsOptions,
  PoolCheckOptions,
  ShutdownOptions,
} from "./config/lifecycle-options.js";
export {
  type BreakerOptions,
  type BulkheadOptions,
  type ConsistencyOptions,
  type CreateDbOptions,
  RESILIENCE_DEFAULTS,
  type ReadYourWrites,
  type ReplicaOptions,
  type RetryBudgetOptions,
  type RetryOptions,
} from "./config/options.js";
export { redactUrl } from "./config/redact.js";
export { createDb } from "./create-db.js";
export {
  ConfigurationError,
  ConsistencyTokenError,
  DatabaseUnavailableError,
  type DatabaseUnavailableErrorOptions,
  isConfigurationError,
  isConsistencyTokenError,
  isDatabaseUnavailable,
  type NodeRole,
  type UnavailableReason,
} from "./errors.js";
export { databaseUnavailableMiddleware } from "./http/express.js";
export { expressConsistency } from "./http/express-consistency.js";
export { databaseUnavailableErrorHandler } from "./http/fastify.js";
export { fastifyConsistency } from "./http/fastify-consistency.js";
export {
  type HealthHandler,
  type HealthHandlerOptions,
  type HealthHandlers,
  type HealthSource,
  healthHandlers,
} from "./http/health.js";
export { sendDatabaseUnavailable } from "./http/node-http.js";
export type { ConsistencyClient, ConsistencyHttpOptions } from "./http/token-carrier.js";
export { type UnavailableBody, type UnavailableResponse, unavailableResponse } from "./http/unavailable-response.js";
export type { PoolOversubscribedEvent, ShutdownDoneEvent, ShutdownEvent } from "./lifecycle/events.js";
export type { HealthReport, NodeHealth } from "./lifecycle/health.js";
export {
  type ConnectionPlan,
  type ConnectionPlanInput,
  type PoolSizeInput,
  type PoolSizeRecommendation,
  planConnections,
  recommendPoolSize,
} from "./lifecycle/pool-sizing.js";
export { classifyFault, type Fault, type FaultKind } from "./resilience/classify-fault.js";
export { isReadOnlySql } from "./routing/read-only-sql.js";
export type { ReplicaCandidate, ReplicaSelector, SelectionStrategy } from "./routing/selectors/index.js";

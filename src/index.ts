export type {
  SplitClient,
  SplitMethods,
  SplitTransaction,
  SplitTransactionClient,
  TransactionRoles,
} from "./client/types.js";
export { DEFAULTS } from "./config/defaults.js";
export type {
  HealthOptions,
  MetricsOptions,
  PoolCheckOptions,
  Readiness,
  ShutdownOptions,
} from "./config/lifecycle-options.js";
export type { SplitLogger } from "./config/logger-option.js";
export type { ClientOptionsOption, NodeDescriptor, NodePoolConfig, PoolOption } from "./config/node-overrides.js";
export type {
  BreakerOptions,
  BulkheadOptions,
  ConsistencyOptions,
  CreateDbOptions,
  ReadMode,
  ReadYourWrites,
  ReplicaCandidate,
  ReplicaOptions,
  ReplicaSelector,
  RetryBudgetOptions,
  RetryOptions,
  SelectionStrategy,
} from "./config/options.js";
export { redactUrl } from "./config/redact.js";
export type { ZonesOption } from "./config/replica-zones.js";
export { createDb } from "./create-db.js";
export {
  ConfigurationError,
  ConsistencyTokenError,
  DatabaseConfigurationError,
  type DatabaseConfigurationProblem,
  DatabaseUnavailableError,
  type DatabaseUnavailableErrorOptions,
  isConfigurationError,
  isConsistencyTokenError,
  isDatabaseConfigurationError,
  isDatabaseUnavailable,
  isReplicaInTransactionError,
  isReplicaWriteError,
  type NodeRole,
  ReplicaInTransactionError,
  ReplicaWriteError,
  type UnavailableReason,
} from "./errors.js";
export type {
  FallbackEvent,
  HedgeEvent,
  NodeEvent,
  PoolOversubscribedEvent,
  QueryEvent,
  ReplicaStateEvent,
  RetryEvent,
  RoleMismatchEvent,
  RouteReason,
  ServersDrainedEvent,
  ShutdownDoneEvent,
  ShutdownEvent,
  SplitEventMap,
  SplitEvents,
  TokenRefusedEvent,
  TopologyChangeEvent,
  TopologyTrigger,
} from "./events.js";
export { drainOnShutdown, type FastifyLike } from "./http/drain-on-shutdown.js";
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
export type { Advice, DiagnosticsReport, NodeDiagnostics } from "./lifecycle/diagnostics.js";
export type { HealthReport, NodeHealth } from "./lifecycle/health.js";
export {
  type ConnectionPlan,
  type ConnectionPlanInput,
  type PoolSizeInput,
  type PoolSizeRecommendation,
  planConnections,
  recommendPoolSize,
} from "./lifecycle/pool-sizing.js";
export type { ServerActivity } from "./lifecycle/server-activity.js";
export type { ReplicaReadOptions } from "./routing/replica-read-options.js";

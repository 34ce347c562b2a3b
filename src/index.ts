export type { SplitClient, SplitMethods } from "./client/types.js";
export type { ConsistencyOptions, CreateDbOptions, ReadYourWrites, ReplicaOptions } from "./config/options.js";
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
export { expressConsistency } from "./http/express-consistency.js";
export { fastifyConsistency } from "./http/fastify-consistency.js";
export type { ConsistencyClient, ConsistencyHttpOptions } from "./http/token-carrier.js";
export { isReadOnlySql } from "./routing/read-only-sql.js";
export type { ReplicaCandidate, ReplicaSelector, SelectionStrategy } from "./routing/selectors/index.js";

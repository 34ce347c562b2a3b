export type { SplitClient, SplitMethods } from "./client/types.js";
export type { CreateDbOptions, ReplicaOptions } from "./config/options.js";
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
export { isReadOnlySql } from "./routing/read-only-sql.js";
export type { ReplicaCandidate, ReplicaSelector, SelectionStrategy } from "./routing/selectors/index.js";

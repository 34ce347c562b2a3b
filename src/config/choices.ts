/** The fixed sets of strings some options choose from, in the order refusals list them. */

/** The built-in replica selection strategies (`replicas.select`). */
export const SELECTION_STRATEGIES = Object.freeze(["round-robin", "random", "least-busy", "fastest"] as const);
export type SelectionStrategy = (typeof SELECTION_STRATEGIES)[number];

/**
 * `consistency.readYourWrites`:
 * - `"off"`: reads go to replicas right after a write (they may not show it yet);
 * - `"session"`: after a write, the context's reads go to the primary for `stickyMs`
 *   (Rails' DatabaseSelector); no extra query, but a replica lagging more than `stickyMs` and
 *   less than `replicas.maxLagMs` can still serve a stale read;
 * - `"lsn"`: after a write, one `SELECT pg_current_wal_insert_lsn()` on the primary; the
 *   context's reads then go to a replica the monitor has seen replay that far, else to the
 *   primary. Exact, and no extra query on reads.
 */
export const READ_YOUR_WRITES_MODES = Object.freeze(["off", "session", "lsn"] as const);
export type ReadYourWrites = (typeof READ_YOUR_WRITES_MODES)[number];

/**
 * `health.readiness`: when an instance is ready (`db.$ready()`, `/health/ready`,
 * `$health().ready`), shutdown aside:
 * - `"any"`: some node answers, primary or replica. The instance can serve reads, and 503s with
 *   `Retry-After` for the writes, while the primary is down; if every pod went not-ready when the
 *   shared primary died, the load balancer would drop them all and clients would get refused
 *   connections instead.
 * - `"primary"`: the primary answers. For apps that can do nothing useful without writes.
 */
export const READINESS_MODES = Object.freeze(["any", "primary"] as const);
export type Readiness = (typeof READINESS_MODES)[number];

/**
 * `reads`: where a read goes when nothing else says:
 * - `"replica"`: to a replica (the primary when none can take it);
 * - `"primary"`: to the primary, unless the call is made on `db.$replica()` or inside
 *   `db.$withReplica(fn)`: replicas are adopted one query at a time.
 */
export const READ_MODES = Object.freeze(["replica", "primary"] as const);
export type ReadMode = (typeof READ_MODES)[number];

/**
 * `metrics.labels`: what the query-duration histogram is split by beside role and node:
 * - `"operation"`: Prisma's operation (`findMany`, `create`, `$queryRaw`, ...), a bounded set;
 * - `"outcome"`: `ok` or `error`;
 * - `"model"`: the model, which multiplies the series by the app's number of models.
 */
export const DURATION_LABELS = Object.freeze(["operation", "outcome", "model"] as const);
export type DurationLabel = (typeof DURATION_LABELS)[number];

/**
 * Pool arithmetic. Every instance (pod × worker) opens its own pool to every server, so a server
 * sees `instances × Σ connection_limit` connections at worst, and must keep some for admins,
 * migrations and monitoring: `connection_limit = (max_connections − reserved) / instances`.
 */

/** Share of `max_connections` kept free by default (the usual advice is 10-20%). */
export const DEFAULT_RESERVED_SHARE = 0.1;
/** PostgreSQL's default `superuser_reserved_connections`. */
export const POSTGRES_SUPERUSER_RESERVED = 3;

export interface PoolSizeInput {
  /** The server's `max_connections` (`SHOW max_connections`). */
  maxConnections: number;
  /** Connections to leave free. Default: {@link defaultReserved}. */
  reserved?: number;
  /** Processes that each open their own pools to this server (pods × workers). */
  instances: number;
  /** Pools each instance opens to this server (other apps, a second createDb). Default: 1. */
  poolsPerInstance?: number;
  /** The server's `superuser_reserved_connections` (+ `reserved_connections`), when known. Default: 3. */
  superuserReserved?: number;
  /**
   * The server's CPU cores. When given, the total is also capped by the often-quoted
   * `cores × 2 + spindles`: more active connections than that only queue inside the server.
   */
  serverCores?: number;
  /** Effective disk spindles for the formula above. Default: 1 (SSD). */
  spindles?: number;
}

export interface PoolSizeRecommendation {
  /** The `connection_limit` to put in each instance's URL (at least 1). */
  readonly connectionLimit: number;
  /** Connections all instances together may open: `max_connections − reserved` (or the cores cap). */
  readonly budget: number;
  readonly reserved: number;
  readonly limitedBy: "max_connections" | "server_cores";
  /** False when even one connection per pool would exceed the budget: use PgBouncer or fewer instances. */
  readonly fits: boolean;
}

/** Connections kept free when the caller names none: 10% of max_connections, at least the superuser reserve. */
export function defaultReserved(maxConnections: number, superuserReserved = POSTGRES_SUPERUSER_RESERVED): number {
  return Math.max(superuserReserved, Math.ceil(maxConnections * DEFAULT_RESERVED_SHARE));
}

/**
 * The `connection_limit` each instance's pool can have without exhausting the server.
 *
 * @example
 * // max_connections = 100, 10 kept free, 6 pods:
 * recommendPoolSize({ maxConnections: 100, reserved: 10, instances: 6 }).connectionLimit; // 15
 */
export function recommendPoolSize(input: PoolSizeInput): PoolSizeRecommendation {
  const maxConnections = whole(input.maxConnections, "maxConnections", 1);
  const instances = whole(input.instances, "instances", 1);
  const pools = whole(input.poolsPerInstance ?? 1, "poolsPerInstance", 1);
  const superuserReserved = whole(input.superuserReserved ?? POSTGRES_SUPERUSER_RESERVED, "superuserReserved", 0);
  const reserved = whole(input.reserved ?? defaultReserved(maxConnections, superuserReserved), "reserved", 0);
  let budget = Math.max(0, maxConnections - reserved);
  let limitedBy: PoolSizeRecommendation["limitedBy"] = "max_connections";
  if (input.serverCores !== undefined) {
    const cores = whole(input.serverCores, "serverCores", 1);
    const optimal = cores * 2 + whole(input.spindles ?? 1, "spindles", 0);
    if (optimal < budget) {
      budget = optimal;
      limitedBy = "server_cores";
    }
  }
  const perPool = Math.floor(budget / (instances * pools));
  return { connectionLimit: Math.max(1, perPool), budget, reserved, limitedBy, fits: perPool >= 1 };
}

export interface ConnectionPlanInput {
  maxConnections: number;
  reserved?: number;
  superuserReserved?: number;
  instances: number;
  /** `connection_limit` of each pool one instance opens to this server. */
  connectionLimits: readonly number[];
}

export interface ConnectionPlan {
  readonly maxConnections: number;
  readonly reserved: number;
  readonly budget: number;
  readonly instances: number;
  /** Σ connection_limit of one instance's pools to this server. */
  readonly perInstance: number;
  /** instances × perInstance: what the server sees when every pool is full. */
  readonly planned: number;
  readonly fits: boolean;
  /** A connection_limit per pool that fits (see {@link recommendPoolSize}). */
  readonly recommendedConnectionLimit: number;
}

/** Whether `instances × Σ connectionLimits` fits in `max_connections − reserved`. */
export function planConnections(input: ConnectionPlanInput): ConnectionPlan {
  const recommendation = recommendPoolSize({
    maxConnections: input.maxConnections,
    instances: input.instances,
    poolsPerInstance: Math.max(1, input.connectionLimits.length),
    ...(input.reserved === undefined ? {} : { reserved: input.reserved }),
    ...(input.superuserReserved === undefined ? {} : { superuserReserved: input.superuserReserved }),
  });
  const perInstance = input.connectionLimits.reduce((sum, limit) => sum + whole(limit, "connectionLimits[]", 1), 0);
  const planned = input.instances * perInstance;
  return {
    maxConnections: input.maxConnections,
    reserved: recommendation.reserved,
    budget: recommendation.budget,
    instances: input.instances,
    perInstance,
    planned,
    fits: planned <= recommendation.budget,
    recommendedConnectionLimit: recommendation.connectionLimit,
  };
}

/**
 * What a plan that does not fit says, the same in the pool check's warning and in `doctor`.
 * `nodes` are the pools of one instance that reach `server`, each counted at the size it really
 * has (`pool.max` over `connection_limit`).
 *
 * @example
 * const plan = planConnections({ maxConnections: 100, reserved: 10, instances: 12, connectionLimits: [10] });
 * describeOversubscription("db:5432", ["primary"], plan);
 * // "primary: 12 instance(s) x 10 connections = 120 exceeds max_connections 100 - 10 reserved = 90
 * //  on db:5432; use connection_limit=7 (or pool.max), fewer instances, or PgBouncer"
 */
export function describeOversubscription(server: string, nodes: readonly string[], plan: ConnectionPlan): string {
  return (
    `${nodes.join(", ")}: ${plan.instances} instance(s) x ${plan.perInstance} connections = ${plan.planned} ` +
    `exceeds max_connections ${plan.maxConnections} - ${plan.reserved} reserved = ${plan.budget} on ${server}; ` +
    `use connection_limit=${plan.recommendedConnectionLimit} (or pool.max), fewer instances, or PgBouncer`
  );
}

/**
 * What a plan against PgBouncer's `max_client_conn` that does not fit says (`doctor`): behind
 * PgBouncer the pools are its clients, and the server sees only PgBouncer's own pool.
 *
 * @example
 * const plan = planConnections({ maxConnections: 200, reserved: 0, instances: 40, connectionLimits: [3, 3] });
 * describeClientOversubscription("bouncer:6432", ["primary", "replica-0"], plan);
 * // "primary, replica-0: 40 instance(s) x 6 connections = 240 client connections exceed PgBouncer's
 * //  max_client_conn 200 on bouncer:6432; use connection_limit=2 (or pool.max), fewer instances, or raise max_client_conn"
 */
export function describeClientOversubscription(server: string, nodes: readonly string[], plan: ConnectionPlan): string {
  return (
    `${nodes.join(", ")}: ${plan.instances} instance(s) x ${plan.perInstance} connections = ${plan.planned} ` +
    `client connections exceed PgBouncer's max_client_conn ${plan.maxConnections} on ${server}; ` +
    `use connection_limit=${plan.recommendedConnectionLimit} (or pool.max), fewer instances, or raise max_client_conn`
  );
}

function whole(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(`prisma-split: ${name} must be a whole number ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

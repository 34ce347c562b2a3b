import { constants } from "node:os";
import { ConfigurationError } from "../errors.js";
import { readGroup, readNumber, readOneOf, show, timerRule } from "./validate.js";

/** `createDb({ shutdown })`: graceful shutdown on process signals. `false`: no signal listeners at all. */
export interface ShutdownOptions {
  /** Signals that start a graceful shutdown. Default: `["SIGTERM", "SIGINT"]`. */
  signals?: readonly NodeJS.Signals[];
  /**
   * How long in-flight queries may take to finish once shutdown begins; queries still running
   * then are cancelled on the server. Default: 10 000 ms (well inside Kubernetes' 30 s grace period).
   */
  timeoutMs?: number;
}

/** `createDb({ metrics })`: Prometheus metrics through prom-client (an optional peer dependency). */
export interface MetricsOptions {
  /** The prom-client `Registry` to register in. Default: prom-client's global `register`. */
  registry?: unknown;
  /** Prefix of every metric name. Default: `"prisma_split_"`. */
  prefix?: string;
}

/**
 * When an instance is ready (`db.$ready()`, `/health/ready`, `$health().ready`), shutdown aside:
 * - `"any"`: some node answers, primary or replica. The instance can serve reads, and 503s with
 *   `Retry-After` for the writes, while the primary is down; if every pod went not-ready when the
 *   shared primary died, the load balancer would drop them all and clients would get refused
 *   connections instead.
 * - `"primary"`: the primary answers. For apps that can do nothing useful without writes.
 */
export type Readiness = "any" | "primary";

/** `createDb({ health })`: how `db.$health()` and `db.$ready()` probe the nodes. */
export interface HealthOptions {
  /** How long one node's probe (`SELECT` through its pool) may take before it counts as unreachable. Default: 2000 ms. */
  timeoutMs?: number;
  /** Which node must answer for the instance to be ready: see {@link Readiness}. Default: `"any"`. */
  readiness?: Readiness;
}

/**
 * `createDb({ poolCheck })`: the one-time check that every instance's pools together fit in each
 * server's `max_connections`. `false` turns it off.
 */
export interface PoolCheckOptions {
  /**
   * How many processes run this code against the same servers (pods × workers).
   * Default: `process.env.PRISMA_SPLIT_INSTANCES`, else 1.
   */
  instances?: number;
  /**
   * Connections to leave free on each server for admins, migrations and monitoring.
   * Default: 10% of `max_connections`, and never fewer than `superuser_reserved_connections`.
   */
  reserved?: number;
}

export const DEFAULT_SHUTDOWN_OPTIONS = Object.freeze({
  signals: Object.freeze(["SIGTERM", "SIGINT"]) as readonly NodeJS.Signals[],
  timeoutMs: 10_000, // 10 s
});

export const DEFAULT_METRICS_OPTIONS = Object.freeze({ prefix: "prisma_split_" });

export const DEFAULT_HEALTH_OPTIONS = Object.freeze({
  timeoutMs: 2_000, // 2 s: a readiness probe's own timeout is usually 1-5 s
  readiness: "any" as Readiness, // a primary outage must not take every pod out of the load balancer
});

/** Every readiness mode, in the order messages list them. */
export const READINESS_MODES: readonly Readiness[] = Object.freeze(["any", "primary"]);

/** What the lifecycle features run with, every default filled in. */
export interface LifecycleSettings {
  readonly shutdown: {
    readonly signals: readonly NodeJS.Signals[];
    readonly timeoutMs: number;
    readonly enabled: boolean;
  };
  /** `false` when turned off; `required` is false when not configured: then used only if prom-client can be loaded. */
  readonly metrics: false | { readonly registry: unknown; readonly prefix: string; readonly required: boolean };
  readonly health: { readonly timeoutMs: number; readonly readiness: Readiness };
  readonly poolCheck: false | { readonly instances: number; readonly reserved: number | undefined };
}

export const DEFAULT_LIFECYCLE_SETTINGS: LifecycleSettings = Object.freeze({
  shutdown: { ...DEFAULT_SHUTDOWN_OPTIONS, enabled: false },
  metrics: false,
  health: DEFAULT_HEALTH_OPTIONS,
  poolCheck: false,
});

interface LifecycleInput {
  shutdown?: ShutdownOptions | false;
  metrics?: MetricsOptions | false;
  health?: HealthOptions;
  poolCheck?: PoolCheckOptions | false;
}

/** Signals a process can catch; SIGKILL and SIGSTOP cannot be. */
const CATCHABLE = new Set(Object.keys(constants.signals).filter((name) => name !== "SIGKILL" && name !== "SIGSTOP"));

/** Checks the `shutdown`, `metrics`, `health` and `poolCheck` options. */
export function resolveLifecycleOptions(
  options: LifecycleInput,
  env: NodeJS.ProcessEnv = process.env,
): LifecycleSettings {
  return {
    shutdown: resolveShutdown(options.shutdown),
    metrics: resolveMetrics(options.metrics),
    health: resolveHealth(options.health),
    poolCheck: resolvePoolCheck(options.poolCheck, env),
  };
}

function resolveShutdown(option: unknown): LifecycleSettings["shutdown"] {
  const given = readGroup("shutdown", option, Object.keys(DEFAULT_SHUTDOWN_OPTIONS), { off: true });
  if (given === false) return { ...DEFAULT_SHUTDOWN_OPTIONS, enabled: false };
  const signals = given.signals ?? DEFAULT_SHUTDOWN_OPTIONS.signals;
  if (!Array.isArray(signals)) {
    throw new ConfigurationError("shutdown.signals", `must be an array of signal names, got ${show(signals)}`);
  }
  for (const [index, signal] of signals.entries()) {
    if (typeof signal !== "string" || !CATCHABLE.has(signal)) {
      throw new ConfigurationError(
        `shutdown.signals[${index}]`,
        `must be a signal a process can catch, like "SIGTERM", got ${show(signal)}`,
      );
    }
  }
  const timeoutMs = readNumber(
    "shutdown.timeoutMs",
    given.timeoutMs ?? DEFAULT_SHUTDOWN_OPTIONS.timeoutMs,
    timerRule(),
  );
  return { signals: Object.freeze([...new Set(signals as NodeJS.Signals[])]), timeoutMs, enabled: true };
}

function resolveMetrics(option: unknown): LifecycleSettings["metrics"] {
  const given = readGroup("metrics", option, ["registry", "prefix"], { off: true });
  if (given === false) return false;
  const registry = given.registry;
  if (registry !== undefined && typeof (registry as { registerMetric?: unknown })?.registerMetric !== "function") {
    throw new ConfigurationError("metrics.registry", "must be a prom-client Registry (new Registry() or register)");
  }
  const prefix = given.prefix ?? DEFAULT_METRICS_OPTIONS.prefix;
  if (typeof prefix !== "string" || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new ConfigurationError(
      "metrics.prefix",
      `must be letters, digits, _ or : (not starting with a digit), got ${show(prefix)}`,
    );
  }
  return { registry, prefix, required: option !== undefined };
}

function resolveHealth(option: unknown): LifecycleSettings["health"] {
  const given = readGroup("health", option, Object.keys(DEFAULT_HEALTH_OPTIONS));
  return {
    timeoutMs: readNumber("health.timeoutMs", given.timeoutMs ?? DEFAULT_HEALTH_OPTIONS.timeoutMs, timerRule()),
    readiness: readOneOf("health.readiness", given.readiness ?? DEFAULT_HEALTH_OPTIONS.readiness, READINESS_MODES),
  };
}

function resolvePoolCheck(option: unknown, env: NodeJS.ProcessEnv): LifecycleSettings["poolCheck"] {
  const given = readGroup("poolCheck", option, ["instances", "reserved"], { off: true });
  if (given === false) return false;
  const variable = env.PRISMA_SPLIT_INSTANCES;
  const fromEnv = given.instances === undefined && variable !== undefined && variable !== "";
  // A variable that is no number is shown as the text it holds, not as NaN.
  const instances = readNumber(
    fromEnv ? "PRISMA_SPLIT_INSTANCES" : "poolCheck.instances",
    fromEnv ? (Number.isNaN(Number(variable)) ? variable : Number(variable)) : (given.instances ?? 1),
    { min: 1, integer: true, unit: "processes" },
  );
  const reserved =
    given.reserved === undefined
      ? undefined
      : readNumber("poolCheck.reserved", given.reserved, { min: 0, integer: true, unit: "connections" });
  return { instances, reserved };
}

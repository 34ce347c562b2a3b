import { constants } from "node:os";
import { ConfigurationError } from "../errors.js";

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

/** `createDb({ health })`: how `db.$health()` probes the nodes. */
export interface HealthOptions {
  /** How long one node's probe (`SELECT` through its pool) may take before it counts as unreachable. Default: 2000 ms. */
  timeoutMs?: number;
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
});

/** What the lifecycle features run with, every default filled in. */
export interface LifecycleSettings {
  readonly shutdown: {
    readonly signals: readonly NodeJS.Signals[];
    readonly timeoutMs: number;
    readonly enabled: boolean;
  };
  /** `false` when turned off; `required` is false when not configured: then used only if prom-client can be loaded. */
  readonly metrics: false | { readonly registry: unknown; readonly prefix: string; readonly required: boolean };
  readonly health: { readonly timeoutMs: number };
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
    health: { timeoutMs: duration(options.health?.timeoutMs, "health.timeoutMs", DEFAULT_HEALTH_OPTIONS.timeoutMs) },
    poolCheck: resolvePoolCheck(options.poolCheck, env),
  };
}

function resolveShutdown(option: ShutdownOptions | false | undefined): LifecycleSettings["shutdown"] {
  if (option === false) return { ...DEFAULT_SHUTDOWN_OPTIONS, enabled: false };
  group(option, "shutdown", "{ signals, timeoutMs } or false");
  const signals = option?.signals ?? DEFAULT_SHUTDOWN_OPTIONS.signals;
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
  const timeoutMs = duration(option?.timeoutMs, "shutdown.timeoutMs", DEFAULT_SHUTDOWN_OPTIONS.timeoutMs);
  return { signals: Object.freeze([...new Set(signals)]), timeoutMs, enabled: true };
}

function resolveMetrics(option: MetricsOptions | false | undefined): LifecycleSettings["metrics"] {
  if (option === false) return false;
  group(option, "metrics", "{ registry, prefix } or false");
  const registry = option?.registry;
  if (registry !== undefined && typeof (registry as { registerMetric?: unknown })?.registerMetric !== "function") {
    throw new ConfigurationError("metrics.registry", "must be a prom-client Registry (new Registry() or register)");
  }
  const prefix = option?.prefix ?? DEFAULT_METRICS_OPTIONS.prefix;
  if (typeof prefix !== "string" || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new ConfigurationError(
      "metrics.prefix",
      `must be letters, digits, _ or : (not starting with a digit), got ${show(prefix)}`,
    );
  }
  return { registry, prefix, required: option !== undefined };
}

function resolvePoolCheck(
  option: PoolCheckOptions | false | undefined,
  env: NodeJS.ProcessEnv,
): LifecycleSettings["poolCheck"] {
  if (option === false) return false;
  group(option, "poolCheck", "{ instances, reserved } or false");
  let instances = option?.instances;
  let setting = "poolCheck.instances";
  if (instances === undefined && env.PRISMA_SPLIT_INSTANCES !== undefined && env.PRISMA_SPLIT_INSTANCES !== "") {
    instances = Number(env.PRISMA_SPLIT_INSTANCES);
    setting = "PRISMA_SPLIT_INSTANCES";
  }
  instances ??= 1;
  if (!Number.isInteger(instances) || instances < 1) {
    throw new ConfigurationError(setting, `must be a whole number of processes ≥ 1, got ${show(instances)}`);
  }
  const reserved = option?.reserved;
  if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 0)) {
    throw new ConfigurationError(
      "poolCheck.reserved",
      `must be a whole number of connections ≥ 0, got ${show(reserved)}`,
    );
  }
  return { instances, reserved };
}

function group(value: unknown, setting: string, expected: string): void {
  if (value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
    throw new ConfigurationError(setting, `must be ${expected}, got ${show(value)}`);
  }
}

function duration(value: unknown, setting: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(setting, `must be a number of milliseconds ≥ 0, got ${show(value)}`);
  }
  return value;
}

function show(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}

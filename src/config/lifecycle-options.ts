import { DEFAULTS } from "./defaults.js";
import type { OptionsOf, Resolved } from "./rules.js";
import { INSTANCES, RULES } from "./schema.js";
import { readNumber } from "./validate.js";

export { READINESS_MODES, type Readiness } from "./choices.js";

/** `createDb({ shutdown })`: graceful shutdown on process signals. `false`: no signal listeners at all. */
export type ShutdownOptions = OptionsOf<typeof DEFAULTS.shutdown>;

/** `createDb({ metrics })`: Prometheus metrics through prom-client (an optional peer dependency). */
export type MetricsOptions = OptionsOf<typeof DEFAULTS.metrics>;

/** `createDb({ health })`: how `db.$health()` and `db.$ready()` probe the nodes. */
export type HealthOptions = OptionsOf<typeof DEFAULTS.health>;

/**
 * `createDb({ poolCheck })`: the one-time check that every instance's pools together fit in each
 * server's `max_connections`. `false` turns it off.
 */
export type PoolCheckOptions = OptionsOf<typeof DEFAULTS.poolCheck>;

/** What the lifecycle features run with, every default filled in. */
export interface LifecycleSettings {
  /** `enabled` is false when `shutdown: false`: no signal listeners (`$disconnect()` still drains, within `timeoutMs`). */
  readonly shutdown: Resolved<typeof DEFAULTS.shutdown> & { readonly enabled: boolean };
  /** `false` when turned off; `required` is false when not configured: then used only if prom-client can be loaded. */
  readonly metrics: false | (Resolved<typeof DEFAULTS.metrics> & { readonly required: boolean });
  readonly health: Resolved<typeof DEFAULTS.health>;
  readonly poolCheck: false | Resolved<typeof DEFAULTS.poolCheck>;
}

interface LifecycleInput {
  shutdown?: ShutdownOptions | false;
  metrics?: MetricsOptions | false;
  health?: HealthOptions;
  poolCheck?: PoolCheckOptions | false;
}

/** Checks the `shutdown`, `metrics`, `health` and `poolCheck` options. */
export function resolveLifecycleOptions(
  options: LifecycleInput,
  env: NodeJS.ProcessEnv = process.env,
): LifecycleSettings {
  const shutdown = RULES.shutdown.read("shutdown", options.shutdown, DEFAULTS.shutdown);
  const metrics = RULES.metrics.read("metrics", options.metrics, DEFAULTS.metrics);
  const poolCheck = RULES.poolCheck.read("poolCheck", options.poolCheck, DEFAULTS.poolCheck);
  return {
    shutdown: { ...(shutdown || DEFAULTS.shutdown), enabled: shutdown !== false },
    metrics: metrics && { ...metrics, required: options.metrics !== undefined },
    health: RULES.health.read("health", options.health, DEFAULTS.health),
    poolCheck: poolCheck && {
      ...poolCheck,
      instances: instancesFromEnv(options.poolCheck, env) ?? poolCheck.instances,
    },
  };
}

/**
 * `PRISMA_SPLIT_INSTANCES`, when `poolCheck.instances` is not given; a value that is no number is
 * shown as the text it holds, not as NaN.
 */
function instancesFromEnv(option: unknown, env: NodeJS.ProcessEnv): number | undefined {
  const variable = env.PRISMA_SPLIT_INSTANCES;
  if (variable === undefined || variable === "" || (option as PoolCheckOptions | undefined)?.instances !== undefined) {
    return undefined;
  }
  return readNumber("PRISMA_SPLIT_INSTANCES", Number.isNaN(Number(variable)) ? variable : Number(variable), INSTANCES);
}

import { constants } from "node:os";
import { ConfigurationError } from "../errors.js";
import {
  DURATION_LABELS,
  type DurationLabel,
  READ_MODES,
  READ_YOUR_WRITES_MODES,
  READINESS_MODES,
  SELECTION_STRATEGIES,
  type SelectionStrategy,
} from "./choices.js";
import type { DEFAULTS } from "./defaults.js";
import type { ReplicaSelector } from "./options.js";
import { readPreferZone, readZonesOption } from "./replica-zones.js";
import { group, numberIn, oneOf, type Reader, trueOrFalse } from "./rules.js";
import { MAX_TIMER_MS, type NumberRule, readGroup, readNumber, show, timerRule } from "./validate.js";

/**
 * The rule of every option, group by group, in the shape of {@link DEFAULTS}: what a value must
 * be, and what a refusal says. `resolveConfig` reads each group through these; what follows from
 * the settings (time bounds, pool sizes, probe timeouts) is computed there.
 */

/**
 * The most backends a PostgreSQL server can run (`max_connections` ≤ 2^18 − 1, MAX_BACKENDS):
 * a pool larger than that can never fill, so it is a typo. A pool within it but larger than the
 * server's own `max_connections` is warned about at start (the pool check) and by `doctor`.
 */
export const MAX_POOL_SIZE = 262_143;

/** A wait in seconds that a timer can wait: a longer one fires at once. */
const TIMER_SECONDS = {
  min: 0,
  max: Math.floor(MAX_TIMER_MS / 1000),
  unit: "seconds",
  whyMax: "about 24.8 days: a timer fires at once after a longer one",
} as const;

/** A delay in ms above 0. */
const POSITIVE_TIMER = { above: 0, unit: "milliseconds", timer: true } as const;

/** `replicas.select`: a built-in strategy's name or the user's own function. */
const readSelect: Reader<SelectionStrategy | ReplicaSelector> = (setting, select) => {
  if (typeof select === "function") return select as ReplicaSelector;
  if (typeof select === "string" && (SELECTION_STRATEGIES as readonly string[]).includes(select)) {
    return select as SelectionStrategy;
  }
  throw new ConfigurationError(
    setting,
    `must be one of ${SELECTION_STRATEGIES.map((name) => `"${name}"`).join(", ")} or a function, got ${show(select)}`,
  );
};

/** `replicas.hedge.afterMs`: ms, or `"p95"`. */
const readHedgeDelay: Reader<number | "p95"> = (setting, afterMs) => {
  if (afterMs === "p95") return afterMs;
  if (typeof afterMs !== "number") {
    throw new ConfigurationError(setting, `must be a number of milliseconds or "p95", got ${show(afterMs)}`);
  }
  return readNumber(setting, afterMs, timerRule(1));
};

/** Signals a process can catch; SIGKILL and SIGSTOP cannot be. */
const CATCHABLE = new Set(Object.keys(constants.signals).filter((name) => name !== "SIGKILL" && name !== "SIGSTOP"));

/** `shutdown.signals`: catchable signal names, each once. */
const readSignals: Reader<readonly NodeJS.Signals[]> = (setting, signals) => {
  if (!Array.isArray(signals)) {
    throw new ConfigurationError(setting, `must be an array of signal names, got ${show(signals)}`);
  }
  for (const [index, signal] of signals.entries()) {
    if (typeof signal !== "string" || !CATCHABLE.has(signal)) {
      throw new ConfigurationError(
        `${setting}[${index}]`,
        `must be a signal a process can catch, like "SIGTERM", got ${show(signal)}`,
      );
    }
  }
  return Object.freeze([...new Set(signals as NodeJS.Signals[])]);
};

const readRegistry: Reader<unknown> = (setting, registry) => {
  if (registry !== undefined && typeof (registry as { registerMetric?: unknown })?.registerMetric !== "function") {
    throw new ConfigurationError(setting, "must be a prom-client Registry (new Registry() or register)");
  }
  return registry;
};

const readMetricPrefix: Reader<string> = (setting, prefix) => {
  if (typeof prefix !== "string" || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new ConfigurationError(
      setting,
      `must be letters, digits, _ or : (not starting with a digit), got ${show(prefix)}`,
    );
  }
  return prefix;
};

/** The most buckets one histogram may have: each is a series per label set. */
const MAX_BUCKETS = 50;

/** `metrics.buckets`: increasing finite bounds above 0, in seconds. */
const readBuckets: Reader<readonly number[]> = (setting, buckets) => {
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.length > MAX_BUCKETS) {
    throw new ConfigurationError(
      setting,
      `must be an array of 1 to ${MAX_BUCKETS} upper bounds in seconds, like [0.01, 0.1, 1], got ${show(buckets)}`,
    );
  }
  for (const [index, bound] of buckets.entries()) {
    if (typeof bound !== "number" || !Number.isFinite(bound) || bound <= 0) {
      throw new ConfigurationError(
        `${setting}[${index}]`,
        `must be a finite number of seconds above 0 (+Inf is always added), got ${show(bound)}`,
      );
    }
    if (index > 0 && bound <= (buckets[index - 1] as number)) {
      throw new ConfigurationError(
        `${setting}[${index}]`,
        `must be larger than the bound before it (${buckets[index - 1]}), got ${show(bound)}`,
      );
    }
  }
  return Object.freeze([...(buckets as number[])]);
};

/** `metrics.labels`: labels of the duration histogram beside role and node, each once. */
const readDurationLabels: Reader<readonly DurationLabel[]> = (setting, labels) => {
  if (!Array.isArray(labels)) {
    throw new ConfigurationError(
      setting,
      `must be an array of ${DURATION_LABELS.map((label) => `"${label}"`).join(", ")}, got ${show(labels)}`,
    );
  }
  for (const [index, label] of labels.entries()) {
    if (!(DURATION_LABELS as readonly unknown[]).includes(label)) {
      throw new ConfigurationError(
        `${setting}[${index}]`,
        `must be one of ${DURATION_LABELS.map((name) => `"${name}"`).join(", ")} (role and node are always there), got ${show(label)}`,
      );
    }
  }
  return Object.freeze([...new Set(labels as DurationLabel[])]);
};

/** `tracing`: `true`, `false`, or `{ tracer }` with an OpenTelemetry Tracer. */
const readTracing: Reader<boolean | { readonly tracer?: unknown }> = (setting, value) => {
  if (typeof value === "boolean") return value;
  const { tracer } = readGroup(setting, value, ["tracer"]) as { tracer?: unknown };
  if (tracer !== undefined && typeof (tracer as { startSpan?: unknown }).startSpan !== "function") {
    throw new ConfigurationError(
      `${setting}.tracer`,
      `must be an OpenTelemetry Tracer (with startSpan), got ${show(tracer)}`,
    );
  }
  return tracer === undefined ? true : { tracer };
};

/** A string matching `pattern`, described as `what` in a refusal. */
function matching(pattern: RegExp, what: string): Reader<string> {
  return (setting, value) => {
    if (typeof value === "string" && pattern.test(value)) return value;
    throw new ConfigurationError(setting, `must be ${what}, got ${show(value)}`);
  };
}

const headerName = matching(/^[A-Za-z0-9-]+$/, "a header name (letters, digits, -) or false");
const readHeader: Reader<string | false> = (setting, value) => (value === false ? false : headerName(setting, value));
const urlPath = matching(/^\/\S*$/, "a path starting with /");

/** The fewest characters a diagnostics token may have: a short secret can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** `healthHandlers.diagnosticsToken`: a secret, never shown in a refusal. */
const readDiagnosticsToken: Reader<string | undefined> = (setting, token) => {
  if (token === undefined) return undefined;
  if (typeof token !== "string") {
    throw new ConfigurationError(
      setting,
      `must be a string (a secret of ${MIN_TOKEN_LENGTH}+ characters), got a ${typeof token}`,
    );
  }
  if (token.length < MIN_TOKEN_LENGTH || /[\s,"]/.test(token)) {
    throw new ConfigurationError(
      setting,
      `must be at least ${MIN_TOKEN_LENGTH} characters without spaces, commas or quotes ` +
        `(got ${token.length} characters; e.g. openssl rand -hex 32)`,
    );
  }
  return token;
};

/** `poolCheck.instances` and `PRISMA_SPLIT_INSTANCES`. */
export const INSTANCES = Object.freeze({ min: 1, integer: true, unit: "processes" });

/** Every group of `createDb()`'s options, and the HTTP helpers', with its rules. */
export const RULES = {
  reads: oneOf(READ_MODES),
  replicas: group<typeof DEFAULTS.replicas, "hedge">({
    select: readSelect,
    preferZone: readPreferZone,
    zones: readZonesOption,
    fallbackToPrimary: trueOrFalse,
    maxLagMs: numberIn({ ...timerRule(1), off: true }),
    maxLagBytes: numberIn({ min: 1, integer: true, off: true }),
    pollIntervalMs: numberIn({ ...timerRule(10), off: true }),
    strict: trueOrFalse,
    hedge: group<typeof DEFAULTS.replicas.hedge>(
      { afterMs: readHedgeDelay, maxExtraRatio: numberIn({ above: 0, max: 1 }) },
      { off: true, offByDefault: true },
    ),
  }),
  consistency: group<typeof DEFAULTS.consistency>(
    { readYourWrites: oneOf(READ_YOUR_WRITES_MODES), stickyMs: numberIn(timerRule()) },
    { off: true },
  ),
  breaker: group<typeof DEFAULTS.breaker>(
    {
      timeout: numberIn({ ...POSITIVE_TIMER, off: true }),
      resetTimeout: numberIn(POSITIVE_TIMER),
      errorThresholdPercentage: numberIn({ above: 0, max: 100 }),
      volumeThreshold: numberIn({ min: 0, integer: true }),
      rollingCountTimeout: numberIn(POSITIVE_TIMER),
      rollingCountBuckets: numberIn({ min: 1, integer: true }),
      consecutiveFailures: numberIn({ min: 1, integer: true, off: true }),
    },
    { off: true, refused: { capacity: "is not offered: use `bulkhead` (opossum counts its rejections as failures)" } },
  ),
  retry: group<typeof DEFAULTS.retry, "budget">(
    {
      retries: numberIn({ min: 0, max: 2, integer: true }),
      minTimeout: numberIn(timerRule()),
      maxTimeout: (setting, value, earlier) => readNumber(setting, value, timerRule(earlier?.minTimeout as number)),
      factor: numberIn({ min: 1 }),
      budget: group<typeof DEFAULTS.retry.budget>(
        {
          ratio: numberIn({ min: 0, max: 1 }),
          minRetries: numberIn({ min: 0, integer: true }),
          windowMs: numberIn({ above: 0, unit: "milliseconds" }),
        },
        { off: true },
      ),
    },
    { off: true },
  ),
  bulkhead: group<typeof DEFAULTS.bulkhead>(
    {
      // Infinity is the default (no count bound), not a value to give.
      maxQueue: (setting, value) =>
        value === Number.POSITIVE_INFINITY ? value : readNumber(setting, value, { min: 0, integer: true }),
    },
    { off: true },
  ),
  shutdown: group<typeof DEFAULTS.shutdown>({ signals: readSignals, timeoutMs: numberIn(timerRule()) }, { off: true }),
  metrics: group<typeof DEFAULTS.metrics>(
    { registry: readRegistry, prefix: readMetricPrefix, buckets: readBuckets, labels: readDurationLabels },
    { off: true },
  ),
  health: group<typeof DEFAULTS.health>({ timeoutMs: numberIn(timerRule()), readiness: oneOf(READINESS_MODES) }),
  poolCheck: group<typeof DEFAULTS.poolCheck>(
    {
      instances: numberIn(INSTANCES),
      reserved: (setting, value) =>
        value === undefined ? undefined : readNumber(setting, value, { min: 0, integer: true, unit: "connections" }),
    },
    { off: true },
  ),
  consistencyHttp: group<typeof DEFAULTS.consistencyHttp, "cookie">({
    header: readHeader,
    cookie: group<typeof DEFAULTS.consistencyHttp.cookie>(
      {
        name: (setting, value) => {
          if (value === "")
            throw new ConfigurationError(setting, "is required: the cookie's name (letters, digits, _, -)");
          return matching(/^[A-Za-z0-9_-]+$/, "a cookie name (letters, digits, _, -)")(setting, value);
        },
        maxAgeSeconds: numberIn({ min: 1, integer: true, unit: "seconds" }),
        secure: trueOrFalse,
        // A `;` would end the attribute and start another one of the caller's choosing.
        path: matching(/^\/[!-:<-~]*$/, "a path starting with / (printable, no ; or space)"),
      },
      { off: true, offByDefault: true },
    ),
  }),
  queryTimeoutMs: numberIn({ ...POSITIVE_TIMER, off: true }),
  tracing: readTracing,
  healthHandlers: group<typeof DEFAULTS.healthHandlers>({
    detail: trueOrFalse,
    livePath: urlPath,
    readyPath: urlPath,
    diagnosticsToken: readDiagnosticsToken,
    diagnosticsPath: urlPath,
  }),
};

/** A Prisma URL parameter's bounds, and the words of its refusal. */
export interface UrlParameterRule extends NumberRule {
  readonly max: number;
  readonly unit: string;
  /** What a value below the bound must be, as Prisma's docs put it. */
  readonly expected: string;
  /** Why a value above `max` cannot work. */
  readonly whyMax: string;
}

/**
 * The bounds of Prisma's URL parameters: a pool no server could fill, or a wait longer than a
 * timer can wait (pg would give up at once), is refused.
 */
export const URL_PARAMETER_RULES: Readonly<Record<keyof typeof DEFAULTS.url, UrlParameterRule>> = Object.freeze({
  connection_limit: {
    min: 1,
    max: MAX_POOL_SIZE,
    integer: true,
    unit: "connections",
    expected: "a positive integer",
    whyMax: "no PostgreSQL server runs more backends",
  },
  pool_timeout: { ...TIMER_SECONDS, expected: "a non-negative number of seconds" },
  connect_timeout: { ...TIMER_SECONDS, expected: "a non-negative number of seconds" },
});

/**
 * The `pool` option's settings prisma-split itself counts on (the bulkhead, the pool check,
 * metrics): pg's `max` and `connectionTimeoutMillis`, which win over `connection_limit` and
 * `pool_timeout`. pg takes a `max` of 0 or less without a word, and every query then waits forever.
 */
export const POOL_OVERRIDE_RULES: Readonly<Record<"max" | "connectionTimeoutMillis", NumberRule>> = Object.freeze({
  max: { min: 1, max: MAX_POOL_SIZE, integer: true },
  connectionTimeoutMillis: timerRule(),
});

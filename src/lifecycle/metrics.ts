import type { Counter, Gauge, Registry } from "prom-client";
import type { DEFAULTS } from "../config/defaults.js";
import type { LifecycleSettings } from "../config/lifecycle-options.js";
import type { Resolved } from "../config/rules.js";
import { ConfigurationError } from "../errors.js";
import type { QueryEvent, SplitEvents } from "../events.js";
import type { DbNode } from "../nodes/db-node.js";
import type { GuardBreakerState } from "../resilience/node-guard.js";
import { loadPromClient, type PromClientModule } from "./prom-client.js";
import { type HistogramSeries, TallyHistogram } from "./tally-histogram.js";

const BREAKER_STATES = ["closed", "halfOpen", "open"] as const;

/** Where one registry's metric objects live, so that every createDb() (and every copy of this package) shares them. */
const SHARED = Symbol.for("prisma-split.metrics");

/** What metrics read of one createDb() (its SplitState). */
export interface MetricsSubject {
  readonly nodes: readonly DbNode[];
  readonly events: SplitEvents;
  breakerState(node: DbNode): GuardBreakerState;
}

/**
 * Counts what every createDb() of this process does into prom-client metrics, from its events
 * (the opossum → prom-client bridge included: `breaker:*` events) and, at scrape time, from its
 * nodes (pools, breakers, lag). Labels carry only names prisma-split chose (role, node,
 * operation, model when asked, reason), never a URL or SQL text. Returns a function that detaches `context`.
 */
export function instrumentMetrics(
  context: MetricsSubject,
  settings: LifecycleSettings["metrics"],
  load: () => PromClientModule | undefined = loadPromClient,
): () => void {
  if (settings === false) return () => {};
  const prom = load();
  if (prom === undefined) {
    if (!settings.required) return () => {};
    throw new ConfigurationError(
      "metrics",
      "needs prom-client, which is not installed: npm install prom-client, or pass metrics: false",
    );
  }
  const registry = (settings.registry ?? prom.register) as Registry & { [SHARED]?: Map<string, SplitMetrics> };
  registry[SHARED] ??= new Map();
  let metrics = registry[SHARED].get(settings.prefix);
  if (metrics === undefined) {
    metrics = new SplitMetrics(prom, registry, settings);
    registry[SHARED].set(settings.prefix, metrics);
  } else if (!sameHistogram(metrics.histogram, settings)) {
    // One metric name has one set of buckets and labels: a second shape would be a silent lie.
    throw new ConfigurationError(
      "metrics",
      `another createDb() registered "${settings.prefix}query_duration_seconds" in this registry with buckets ` +
        `${JSON.stringify(metrics.histogram.buckets)} and labels ${JSON.stringify(metrics.histogram.labels)}: ` +
        "give every client of one registry the same metrics.buckets and metrics.labels, or another metrics.prefix",
    );
  }
  return metrics.attach(context);
}

type NodeLabels = { role: string; node: string };
type HistogramShape = Pick<Resolved<typeof DEFAULTS.metrics>, "buckets" | "labels">;

function sameHistogram(shape: HistogramShape, settings: HistogramShape): boolean {
  const same = (a: readonly unknown[], b: readonly unknown[]) =>
    a.length === b.length && a.every((value, index) => value === b[index]);
  return same(shape.buckets, settings.buckets) && same([...shape.labels].sort(), [...settings.labels].sort());
}

/** The map under `key` in `outer`, made on first use. */
function innerMap<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

interface RoutedTally {
  readonly labels: { role: string; node: string; reason: string; zone?: string };
  pending: number;
}

interface DurationChildren {
  readonly ok: HistogramSeries;
  readonly error: HistogramSeries;
}

/** The metric objects of one registry and prefix, and the contexts whose nodes they read at scrape time. */
class SplitMetrics {
  readonly #contexts = new Set<MetricsSubject>();
  readonly histogram: HistogramShape;
  readonly queryDuration: TallyHistogram;
  readonly #byOperation: boolean;
  readonly #byOutcome: boolean;
  readonly #byModel: boolean;
  readonly routed: Counter<"role" | "node" | "reason" | "zone">;
  readonly retries: Counter<"role" | "node">;
  readonly shed: Counter<"role" | "node">;
  readonly fallbacks: Counter<"reason">;
  readonly breakerTransitions: Counter<"role" | "node" | "to">;
  readonly replicaTransitions: Counter<"node" | "state">;
  readonly topologyChanges: Counter<"action" | "trigger">;
  /**
   * Per node and reason, the routed queries not yet added to `routed`: a query adds 1 to a plain
   * number, and prom-client hears of the total when it is scraped (its `inc` validates and hashes
   * the labels on every call).
   */
  readonly #routedTallies = new Map<string, Map<string, RoutedTally>>();
  /**
   * Series of the duration histogram by node, model and operation: nested maps keyed by the
   * event's own strings, so a query builds no key.
   */
  readonly #durationChildren = new Map<string, Map<string, Map<string, DurationChildren>>>();

  constructor(prom: PromClientModule, registry: Registry, settings: HistogramShape & { readonly prefix: string }) {
    const { prefix, buckets, labels } = settings;
    this.histogram = { buckets, labels };
    this.#byOperation = labels.includes("operation");
    this.#byOutcome = labels.includes("outcome");
    this.#byModel = labels.includes("model");
    const registers = [registry];
    const contexts = this.#contexts;
    const name = (suffix: string) => `${prefix}${suffix}`;
    const everyNode = (visit: (node: DbNode, labels: NodeLabels, subject: MetricsSubject) => void) => {
      for (const context of contexts)
        for (const node of context.nodes) visit(node, { role: node.role, node: node.name }, context);
    };

    this.queryDuration = new TallyHistogram(
      registry,
      name("query_duration_seconds"),
      `Time from routing a query to its result, by role, node${labels.map((label) => `, ${label}`).join("")}.`,
      buckets,
    );
    const routedTallies = this.#routedTallies;
    this.routed = new prom.Counter({
      name: name("queries_routed_total"),
      help:
        "Queries routed to a node, by the reason for the choice (read, write, forced, fallback, sticky, lsn, ...) " +
        "and, with replicas.preferZone, whether a replica was in that zone (zone: local or remote).",
      labelNames: ["role", "node", "reason", "zone"],
      registers,
      collect() {
        for (const byReason of routedTallies.values()) {
          for (const tally of byReason.values()) {
            if (tally.pending === 0) continue;
            this.inc(tally.labels, tally.pending);
            tally.pending = 0;
          }
        }
      },
    });
    this.retries = new prom.Counter({
      name: name("retries_total"),
      help: "Failed attempts that were retried, by the node that failed.",
      labelNames: ["role", "node"],
      registers,
    });
    this.shed = new prom.Counter({
      name: name("shed_total"),
      help: "Calls refused at once by the node's bulkhead (no connection within pool_timeout expected, or bulkhead.maxQueue reached).",
      labelNames: ["role", "node"],
      registers,
    });
    this.fallbacks = new prom.Counter({
      name: name("fallbacks_total"),
      help: "Reads sent to the primary because no replica could take them, by why.",
      labelNames: ["reason"],
      registers,
    });
    this.breakerTransitions = new prom.Counter({
      name: name("breaker_transitions_total"),
      help: "Circuit breaker state changes, by node and new state.",
      labelNames: ["role", "node", "to"],
      registers,
    });
    this.replicaTransitions = new prom.Counter({
      name: name("replica_state_changes_total"),
      help: "Replica monitor verdicts: down, up, lagging.",
      labelNames: ["node", "state"],
      registers,
    });
    this.topologyChanges = new prom.Counter({
      name: name("topology_changes_total"),
      help: "The primary pointed at another server (moved) or reconnected to the same name (reconnected), by trigger.",
      labelNames: ["action", "trigger"],
      registers,
    });
    scrapeGauge(
      prom,
      registers,
      name("breaker_state"),
      "1 for the breaker's current state, 0 for the others.",
      ["role", "node", "state"],
      (gauge) =>
        everyNode((node, labels, subject) => {
          const current = subject.breakerState(node);
          for (const state of BREAKER_STATES) gauge.inc({ ...labels, state }, current === state ? 1 : 0);
        }),
    );
    scrapeGauge(
      prom,
      registers,
      name("pool_connections"),
      "Open pool connections, idle or busy.",
      ["role", "node", "state"],
      (gauge) =>
        everyNode((node, labels) => {
          const pool = node.currentPool;
          gauge.inc({ ...labels, state: "idle" }, pool?.idleCount ?? 0);
          gauge.inc({ ...labels, state: "busy" }, (pool?.totalCount ?? 0) - (pool?.idleCount ?? 0));
        }),
    );
    scrapeGauge(
      prom,
      registers,
      name("pool_max_connections"),
      "The pool's connection_limit.",
      ["role", "node"],
      (gauge) => everyNode((node, labels) => gauge.inc(labels, node.settings.poolMax)),
    );
    scrapeGauge(
      prom,
      registers,
      name("pool_waiting_requests"),
      "Queries waiting for a free connection.",
      ["role", "node"],
      (gauge) => everyNode((node, labels) => gauge.inc(labels, node.currentPool?.waitingCount ?? 0)),
    );
    scrapeGauge(prom, registers, name("queries_in_flight"), "Queries running on the node.", ["role", "node"], (gauge) =>
      everyNode((node, labels) => gauge.inc(labels, node.inFlight)),
    );
    scrapeGauge(
      prom,
      registers,
      name("replica_in_rotation"),
      "1 when reads may go to the replica.",
      ["node"],
      (gauge) =>
        everyNode((node) => {
          if (node.role === "replica") gauge.inc({ node: node.name }, node.servesReads ? 1 : 0);
        }),
    );
    scrapeGauge(
      prom,
      registers,
      name("replica_lag_seconds"),
      "Replay lag the replica monitor last measured.",
      ["node"],
      (gauge) => {
        // Several clients of one process may watch the same replica: report the worst view.
        const worst = new Map<string, number>();
        everyNode((node) => {
          const lagMs = node.observed?.lagMs;
          if (node.role !== "replica" || lagMs === undefined) return;
          worst.set(node.name, Math.max(worst.get(node.name) ?? 0, lagMs / 1000));
        });
        for (const [node, seconds] of worst) gauge.set({ node }, seconds);
      },
    );
  }

  #countQuery(event: QueryEvent): void {
    const byReason = innerMap(this.#routedTallies, event.node);
    let tally = byReason.get(event.reason);
    if (tally === undefined) {
      // A replica's zone is fixed, so the label adds no series: one per node and reason, as before.
      const labels = { role: event.role, node: event.node, reason: event.reason };
      tally = { labels: event.zone === undefined ? labels : { ...labels, zone: event.zone }, pending: 0 };
      byReason.set(event.reason, tally);
    }
    tally.pending++;

    // A label that is off keys every query alike, so its values share one series.
    const model = this.#byModel ? (event.model ?? "") : "";
    const operation = this.#byOperation ? event.operation : "";
    const byOperation = innerMap(innerMap(this.#durationChildren, event.node), model);
    let children = byOperation.get(operation);
    if (children === undefined) {
      const labels: Record<string, string> = { role: event.role, node: event.node };
      if (this.#byOperation) labels.operation = operation;
      if (this.#byModel) labels.model = model;
      const ok = this.queryDuration.series(this.#byOutcome ? { ...labels, outcome: "ok" } : labels);
      children = { ok, error: this.#byOutcome ? this.queryDuration.series({ ...labels, outcome: "error" }) : ok };
      byOperation.set(operation, children);
    }
    (event.error === undefined ? children.ok : children.error).observe(event.durationMs / 1000);
  }

  attach(context: MetricsSubject): () => void {
    this.#contexts.add(context);
    const events = context.events;
    const disposers = [
      events.on("query", (event) => this.#countQuery(event)),
      events.on("retry", (event) => this.retries.inc({ role: event.role, node: event.node })),
      events.on("shed", (event) => this.shed.inc({ role: event.role, node: event.node })),
      events.on("fallback", (event) => this.fallbacks.inc({ reason: event.reason })),
      events.on("breaker:open", (event) =>
        this.breakerTransitions.inc({ role: event.role, node: event.node, to: "open" }),
      ),
      events.on("breaker:halfOpen", (event) =>
        this.breakerTransitions.inc({ role: event.role, node: event.node, to: "halfOpen" }),
      ),
      events.on("breaker:close", (event) =>
        this.breakerTransitions.inc({ role: event.role, node: event.node, to: "closed" }),
      ),
      events.on("replica:down", (event) => this.replicaTransitions.inc({ node: event.node, state: "down" })),
      events.on("replica:up", (event) => this.replicaTransitions.inc({ node: event.node, state: "up" })),
      events.on("replica:lagging", (event) => this.replicaTransitions.inc({ node: event.node, state: "lagging" })),
      events.on("topology:change", (event) =>
        this.topologyChanges.inc({ action: event.action, trigger: event.trigger }),
      ),
    ];
    return () => {
      this.#contexts.delete(context);
      for (const dispose of disposers) dispose();
    };
  }
}

/** A gauge whose values are read from the nodes when Prometheus scrapes, not kept up to date on every change. */
function scrapeGauge<Label extends string>(
  prom: PromClientModule,
  registers: Registry[],
  name: string,
  help: string,
  labelNames: Label[],
  fill: (gauge: Gauge<Label>) => void,
): void {
  new prom.Gauge<Label>({
    name,
    help,
    labelNames,
    registers,
    collect() {
      this.reset();
      fill(this);
    },
  });
}

import { setMaxListeners } from "node:events";
import { DEFAULT_LIFECYCLE_SETTINGS, type LifecycleSettings } from "../config/lifecycle-options.js";
import { DatabaseUnavailableError } from "../errors.js";
import { SplitEvents } from "../lifecycle/events.js";
import { PoolBudgetCheck } from "../lifecycle/pool-budget-check.js";
import { shutDown } from "../lifecycle/shutdown.js";
import type { DbNode } from "../nodes/db-node.js";
import type { ReplicaMonitor } from "../nodes/replica-monitor.js";
import type { CallPolicy } from "../resilience/call-policy.js";
import { ReadYourWrites } from "../routing/consistency/read-your-writes.js";
import type { Router } from "../routing/router.js";
import type { ModelShape } from "./prisma-internals.js";

/** Parts of a context that only some setups have. */
export interface SplitContextParts {
  readonly readYourWrites?: ReadYourWrites;
  readonly monitor?: ReplicaMonitor;
  /** The emitter, when a part made before the context (the monitor) needs it too. */
  readonly events?: SplitEvents;
  /** Shutdown, metrics, health and pool-check settings; defaults when absent. */
  readonly lifecycle?: LifecycleSettings;
}

const OFF = new ReadYourWrites({ readYourWrites: "off", stickyMs: 0 }, () => Promise.reject(new Error("unused")));

/** What every view of one `createDb()` shares: the nodes, the router, the models, the lifecycle. */
export class SplitContext {
  readonly router: Router;
  readonly models: ReadonlyMap<string, ModelShape>;
  readonly events: SplitEvents;
  /** Shutdown, metrics, health and pool-check settings. */
  readonly lifecycle: LifecycleSettings;
  /** The one-time `max_connections` check (src/lifecycle/pool-budget-check.ts). */
  readonly poolBudget: PoolBudgetCheck;
  /** Shutdown gate → deadline → retry → node, around every routed call (set by createDb). */
  callPolicy: CallPolicy | undefined;
  readonly readYourWrites: ReadYourWrites;
  /** Watches replica lag and roles; undefined without replicas or with `pollIntervalMs: false`. */
  readonly monitor: ReplicaMonitor | undefined;
  /** Aborted when shutdown begins: pending waits (retry back-off, ...) listen to it and stop. */
  readonly #closingController = new AbortController();
  readonly #closers = new Set<() => unknown>();
  #closing: Promise<void> | undefined;
  #trigger = "disconnect";

  constructor(router: Router, models: ReadonlyMap<string, ModelShape>, parts: SplitContextParts = {}) {
    this.router = router;
    this.models = models;
    // Every pending retry wait listens to it (and stops listening when done): as many as calls in
    // flight, so Node's leak warning at 11 listeners would be a false alarm.
    setMaxListeners(0, this.#closingController.signal);
    this.events = parts.events ?? new SplitEvents();
    this.readYourWrites = parts.readYourWrites ?? OFF;
    this.monitor = parts.monitor;
    this.lifecycle = parts.lifecycle ?? DEFAULT_LIFECYCLE_SETTINGS;
    this.poolBudget = new PoolBudgetCheck(router.nodes, this.events, this.lifecycle.poolCheck);
  }

  get nodes(): readonly DbNode[] {
    return this.router.nodes;
  }

  get closingSignal(): AbortSignal {
    return this.#closingController.signal;
  }

  /** True from the moment shutdown begins: readiness is off and new calls are refused. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The error for a call made once shutdown has begun. */
  closedError(): DatabaseUnavailableError {
    const why = this.#trigger.startsWith("SIG") ? `on ${this.#trigger}` : `after $${this.#trigger}()`;
    return new DatabaseUnavailableError(`prisma-split: shutting down ${why}: no new queries are accepted`, {
      role: "primary",
      reason: "shutting-down",
    });
  }

  /**
   * Registers a stop function (a breaker's, a monitor's, a listener's) that shutdown runs after
   * in-flight queries have drained and before pools end. Returns a function that unregisters it.
   */
  onClose(close: () => unknown): () => void {
    this.#closers.add(close);
    return () => this.#closers.delete(close);
  }

  /**
   * Graceful shutdown, once however often it is called: refuses new calls, aborts
   * `closingSignal`, drains in-flight queries within `shutdown.timeoutMs`, runs the registered
   * closers, disconnects every client and ends every pool (src/lifecycle/shutdown.ts).
   *
   * @param trigger what started it: a signal name, `disconnect` or `shutdown`.
   */
  close(trigger = "disconnect"): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#trigger = trigger;
    // `closed` turns true before anything else runs (readiness first, then new calls refused),
    // also for a listener of `shutdown:start` that tries a query.
    this.#closing = Promise.resolve().then(() =>
      shutDown({
        nodes: this.nodes,
        events: this.events,
        trigger,
        timeoutMs: this.lifecycle.shutdown.timeoutMs,
        closers: [() => this.poolBudget.stop(), ...this.#closers],
      }),
    );
    this.#closingController.abort();
    return this.#closing;
  }
}

const contextOfView = new WeakMap<object, SplitContext>();

/** Remembers which context a client view belongs to (createRoutedClient does it). */
export function registerView(view: object, context: SplitContext): void {
  contextOfView.set(view, context);
}

/** The context behind a client from createDb() (internal: tests, benchmarks, health). */
export function splitContextOf(view: unknown): SplitContext | undefined {
  return typeof view === "object" && view !== null ? contextOfView.get(view) : undefined;
}

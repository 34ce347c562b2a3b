import { setMaxListeners } from "node:events";
import type { LifecycleSettings } from "./config/lifecycle-options.js";
import type { DatabaseUnavailableError } from "./errors.js";
import type { SplitEvents } from "./events.js";
import type { PoolBudgetCheck } from "./lifecycle/pool-budget-check.js";
import { shutDown } from "./lifecycle/shutdown.js";
import type { DbNode } from "./nodes/db-node.js";
import type { ReplicaMonitor } from "./nodes/replica-monitor.js";
import type { CallGate } from "./resilience/call-pipeline.js";
import type { BreakerState } from "./resilience/circuit-breaker.js";
import type { NodeGuard } from "./resilience/node-guard.js";
import { shuttingDownError } from "./resilience/refusals.js";
import type { ReadYourWrites } from "./routing/consistency/read-your-writes.js";

/** Where one `createDb()` is in its life: `$disconnect()` goes back to open on the next call; `closed` is final. */
type Phase = "open" | "disconnecting" | "disconnected" | "closed";

/** What one `createDb()`'s lifecycle works on, built complete by createDb. */
export interface SplitParts {
  /** Every node, primary first. */
  readonly nodes: readonly DbNode[];
  readonly guards: ReadonlyMap<DbNode, NodeGuard>;
  readonly events: SplitEvents;
  readonly lifecycle: LifecycleSettings;
  readonly readYourWrites: ReadYourWrites;
  /** Watches replica lag and roles; undefined without replicas or with `pollIntervalMs: false`. */
  readonly monitor: ReplicaMonitor | undefined;
  readonly poolBudget: PoolBudgetCheck;
  /** Keeps the primary on the writer; stopped by `$disconnect()` and shutdown. */
  readonly follower: { stop(): void };
}

/**
 * The life of one `createDb()`: the gate every call passes (open, disconnected, closed) and what
 * health, metrics and shutdown look at. `$disconnect()` drains and closes pools and clients and
 * stops the monitor; the next call reopens. `shutdown()` (`$shutdown()`, a signal) is final.
 */
export class SplitState implements CallGate {
  readonly nodes: readonly DbNode[];
  readonly guards: ReadonlyMap<DbNode, NodeGuard>;
  readonly events: SplitEvents;
  readonly lifecycle: LifecycleSettings;
  readonly readYourWrites: ReadYourWrites;
  readonly monitor: ReplicaMonitor | undefined;
  readonly poolBudget: PoolBudgetCheck;
  readonly #follower: { stop(): void };
  /** Aborted when the final shutdown begins: pending retry waits listen to it and stop. */
  readonly #closingController = new AbortController();
  readonly #closers = new Set<() => unknown>();
  #phase: Phase = "open";
  /** The disconnect or shutdown under way (or done). */
  #closing: Promise<void> | undefined;
  #trigger = "shutdown";

  constructor(parts: SplitParts) {
    this.nodes = parts.nodes;
    this.guards = parts.guards;
    this.events = parts.events;
    this.lifecycle = parts.lifecycle;
    this.readYourWrites = parts.readYourWrites;
    this.monitor = parts.monitor;
    this.poolBudget = parts.poolBudget;
    this.#follower = parts.follower;
    // Every pending retry wait listens to it: as many as calls in flight, so Node's leak warning
    // at 11 listeners would be a false alarm.
    setMaxListeners(0, this.#closingController.signal);
  }

  breakerState(node: DbNode): BreakerState {
    return this.guards.get(node)?.breakerState ?? "closed";
  }

  get open(): boolean {
    return this.#phase === "open";
  }

  /** True from the moment the final shutdown begins: readiness is off and new calls are refused. */
  get closed(): boolean {
    return this.#phase === "closed";
  }

  get closingSignal(): AbortSignal {
    return this.#closingController.signal;
  }

  /** Calls may go on once this resolves: after a disconnect (under way or done) it reopens. */
  async whenOpen(): Promise<void> {
    if (this.#phase === "disconnecting") await this.#closing?.catch(() => {});
    if (this.#phase === "closed") throw this.closedError();
    if (this.#phase === "disconnected") {
      this.#phase = "open";
      this.#closing = undefined;
      this.monitor?.start();
    }
  }

  /** The error for a call made once shutdown has begun. */
  closedError(): DatabaseUnavailableError {
    const why = this.#trigger.startsWith("SIG") ? `on ${this.#trigger}` : `after $${this.#trigger}()`;
    return shuttingDownError("primary", `shut down ${why}`);
  }

  /** Registers a stop function for the final shutdown (metrics, signal listeners). Returns its remover. */
  onClose(close: () => unknown): () => void {
    this.#closers.add(close);
    return () => this.#closers.delete(close);
  }

  /**
   * Prisma's `$disconnect()`: drains in-flight calls, stops the monitor, disconnects every client
   * and ends every pool; the next call opens them again. Joins a disconnect or shutdown under way.
   */
  disconnect(): Promise<void> {
    if (this.#phase !== "open") return this.#closing ?? Promise.resolve();
    this.#phase = "disconnecting";
    this.#closing = this.#close("disconnect", [() => this.monitor?.stop()]).finally(() => {
      if (this.#phase === "disconnecting") this.#phase = "disconnected";
    });
    return this.#closing;
  }

  /**
   * The final, graceful shutdown, once however often it is called: refuses new calls, aborts
   * `closingSignal`, drains in-flight queries within `shutdown.timeoutMs`, stops breakers,
   * monitor, metrics and signal listeners, disconnects every client and ends every pool.
   *
   * @param trigger what started it: a signal name or `shutdown`.
   */
  shutdown(trigger = "shutdown"): Promise<void> {
    if (this.#phase === "closed") return this.#closing ?? Promise.resolve();
    const previous = this.#phase === "disconnecting" ? this.#closing : undefined;
    this.#phase = "closed";
    this.#trigger = trigger;
    this.#closingController.abort();
    const finalClosers = [
      () => this.monitor?.stop(),
      () => this.poolBudget.stop(),
      ...[...this.guards.values()].map((guard) => () => guard.close()),
      ...this.#closers,
    ];
    // `closed` is true before anything else runs (readiness first, then new calls refused), also
    // for a listener of `shutdown:start` that tries a query.
    this.#closing = Promise.resolve(previous?.catch(() => {})).then(() => this.#close(trigger, finalClosers));
    return this.#closing;
  }

  #close(trigger: string, closers: ReadonlyArray<() => unknown>): Promise<void> {
    this.#follower.stop();
    return shutDown({
      nodes: this.nodes,
      events: this.events,
      trigger,
      timeoutMs: this.lifecycle.shutdown.timeoutMs,
      closers,
    });
  }
}

const stateOfView = new WeakMap<object, SplitState>();

/** Remembers which state a client view belongs to (createRoutedClient does it). */
export function registerView(view: object, state: SplitState): void {
  stateOfView.set(view, state);
}

/** The state behind a client from createDb() (internal: tests, benchmarks). */
export function splitStateOf(view: unknown): SplitState | undefined {
  return typeof view === "object" && view !== null ? stateOfView.get(view) : undefined;
}

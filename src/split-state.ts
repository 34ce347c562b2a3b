import { setMaxListeners } from "node:events";
import type { LifecycleSettings } from "./config/lifecycle-options.js";
import type { DatabaseUnavailableError } from "./errors.js";
import type { SplitEvents } from "./events.js";
import type { PoolBudgetCheck } from "./lifecycle/pool-budget-check.js";
import { PoolPressure } from "./lifecycle/pool-pressure.js";
import type { ServedServer } from "./lifecycle/server-drain.js";
import { safely, shutDown } from "./lifecycle/shutdown.js";
import type { ReplicaMonitor } from "./monitor/replica-monitor.js";
import type { DbNode } from "./nodes/db-node.js";
import type { CallGate } from "./resilience/call-pipeline.js";
import type { GuardBreakerState, NodeGuard } from "./resilience/node-guard.js";
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
  /** Writes out what the `logger` option buffered; called last, before the process may end. */
  readonly flushLogs?: () => Promise<void>;
}

/**
 * The life of one `createDb()`: the gate every call passes (open, disconnected, closed) and what
 * health, metrics and shutdown look at. `$disconnect()` drains and closes pools and clients and
 * stops the monitor; the next call reopens. `shutdown()` (`$shutdown()`, a signal) is final: it drains
 * the HTTP servers handed to `drainOnShutdown()` first (the database still serves the requests
 * they accepted), then closes the gate and the nodes.
 */
export class SplitState implements CallGate {
  readonly nodes: readonly DbNode[];
  readonly guards: ReadonlyMap<DbNode, NodeGuard>;
  readonly events: SplitEvents;
  readonly lifecycle: LifecycleSettings;
  readonly readYourWrites: ReadYourWrites;
  readonly monitor: ReplicaMonitor | undefined;
  readonly poolBudget: PoolBudgetCheck;
  /** Each pool's busy spell, read once a second (diagnostics). */
  readonly poolPressure = new PoolPressure();
  readonly #follower: { stop(): void };
  /** Aborted when the final shutdown begins: pending retry waits listen to it and stop. */
  readonly #closingController = new AbortController();
  readonly #closers = new Set<() => unknown>();
  readonly #servers = new Set<ServedServer>();
  readonly #flushLogs: (() => Promise<void>) | undefined;
  #phase: Phase = "open";
  /** The disconnect or shutdown under way (or done). */
  #closing: Promise<void> | undefined;
  /** The final shutdown, from its first moment (servers draining) to its end. */
  #final: Promise<void> | undefined;
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
    this.#flushLogs = parts.flushLogs;
    // Every pending retry wait listens to it: as many as calls in flight, so Node's leak warning
    // at 11 listeners would be a false alarm.
    setMaxListeners(0, this.#closingController.signal);
  }

  breakerState(node: DbNode): GuardBreakerState {
    return this.guards.get(node)?.breakerState ?? "off";
  }

  get open(): boolean {
    return this.#phase === "open";
  }

  /** True once the gate closed for good: new calls are refused (after the servers drained, if any). */
  get closed(): boolean {
    return this.#phase === "closed";
  }

  /** True from the moment the final shutdown begins: readiness is off. */
  get shuttingDown(): boolean {
    return this.#final !== undefined;
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

  /** Registers an HTTP server the final shutdown drains before it closes the gate. Returns its remover. */
  addServer(server: ServedServer): () => void {
    this.#servers.add(server);
    return () => this.#servers.delete(server);
  }

  /**
   * Prisma's `$disconnect()`: drains in-flight calls, stops the monitor, disconnects every client
   * and ends every pool; the next call opens them again. Joins a disconnect or shutdown under way.
   */
  disconnect(): Promise<void> {
    // Once the gate is closed, the final shutdown is what there is to wait for. (Not before: a
    // server's close hook that disconnects, awaited by that shutdown, would wait for itself.)
    if (this.#phase === "closed") return this.#final ?? Promise.resolve();
    if (this.#phase !== "open") return this.#closing ?? Promise.resolve();
    this.#phase = "disconnecting";
    safely(() => this.events.emit("shutdown:start", { trigger: "disconnect" }));
    this.#closing = this.#close(
      "disconnect",
      [() => this.monitor?.stop()],
      this.lifecycle.shutdown.timeoutMs,
      performance.now(),
    ).finally(() => {
      if (this.#phase === "disconnecting") this.#phase = "disconnected";
    });
    return this.#closing;
  }

  /**
   * The final, graceful shutdown, once however often it is called: readiness off; the servers
   * of `drainOnShutdown()` stop accepting and answer what they took (the database still serves
   * those requests); then new calls are refused, `closingSignal` aborts, in-flight queries drain,
   * breakers, monitor, metrics and signal listeners stop, every client disconnects and every pool
   * ends; last, buffered log lines are written out. Servers and queries share one deadline,
   * `shutdown.timeoutMs` from now.
   *
   * @param trigger what started it: a signal name or `shutdown`.
   */
  shutdown(trigger = "shutdown"): Promise<void> {
    if (this.#final !== undefined) return this.#final;
    const started = performance.now();
    this.#trigger = trigger;
    const servers = [...this.#servers];
    // Without servers, `closed` is true before anything else runs (readiness first, then new
    // calls refused), also for a listener of `shutdown:start` that tries a query.
    if (servers.length === 0) this.#closeGate();
    // The work starts after `shutdown:start` is told, and `#final` is set before: a listener
    // that calls `$disconnect()` or `$ready()` sees the shutdown under way.
    this.#final = Promise.resolve()
      .then(() => this.#finish(trigger, servers, started))
      .finally(() => this.#flush(servers));
    safely(() => this.events.emit("shutdown:start", { trigger }));
    return this.#final;
  }

  async #finish(trigger: string, servers: readonly ServedServer[], started: number): Promise<void> {
    const deadline = started + this.lifecycle.shutdown.timeoutMs;
    if (servers.length > 0) {
      await drainServers(servers, deadline, trigger, started, this.events);
      this.#closeGate();
    }
    await this.#closing?.catch(() => {});
    const finalClosers = [
      () => this.monitor?.stop(),
      () => this.poolBudget.stop(),
      ...[...this.guards.values()].map((guard) => () => guard.close()),
      ...this.#closers,
    ];
    this.#closing = this.#close(trigger, finalClosers, Math.max(0, deadline - performance.now()), started);
    await this.#closing;
  }

  /** New calls are refused from here on; pending retry waits stop. A disconnect under way finishes first. */
  #closeGate(): void {
    this.#phase = "closed";
    this.#closingController.abort();
  }

  #close(trigger: string, closers: ReadonlyArray<() => unknown>, timeoutMs: number, started: number): Promise<void> {
    this.#follower.stop();
    return shutDown({ nodes: this.nodes, events: this.events, trigger, timeoutMs, started, closers });
  }

  /** Each flush is bounded by its maker: a logger that never calls back must not keep the process from ending. */
  async #flush(servers: readonly ServedServer[]): Promise<void> {
    const flushes = [this.#flushLogs?.(), ...servers.map((server) => server.flushLogs?.())];
    await Promise.allSettled(flushes);
  }
}

/** Drains every server at once, all by `deadline`, and reports them in one event. */
async function drainServers(
  servers: readonly ServedServer[],
  deadline: number,
  trigger: string,
  started: number,
  events: SplitEvents,
): Promise<void> {
  const reports = await Promise.all(servers.map((server) => server.drain(deadline)));
  const sum = (key: keyof (typeof reports)[number]) => reports.reduce((total, report) => total + report[key], 0);
  safely(() =>
    events.emit("shutdown:servers", {
      trigger,
      servers: servers.length,
      inFlight: sum("inFlight"),
      idleClosed: sum("idleClosed"),
      refused: sum("refused"),
      destroyed: sum("destroyed"),
      durationMs: performance.now() - started,
    }),
  );
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

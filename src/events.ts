import { EventEmitter } from "node:events";
import type { NodeRole } from "./errors.js";

/**
 * Every event prisma-split emits on `db.$events`, with its payload. Listeners run synchronously
 * on the query's path: keep them cheap.
 */
export interface SplitEventMap {
  /** A query settled on a node. */
  query: [QueryEvent];
  /** A node's circuit breaker opened: calls to it fail fast until `halfOpen`. */
  "breaker:open": [NodeEvent];
  /** A node's breaker lets one trial call through. */
  "breaker:halfOpen": [NodeEvent];
  /** A node's breaker closed again: the node serves normally. */
  "breaker:close": [NodeEvent];
  /** A failed attempt is retried after async-retry's back-off, away from `node` where another node may serve it. */
  retry: [RetryEvent];
  /**
   * A read ran again, once, on the primary: the replica `node` answered what only a standby
   * answers (a write it could not take, 25006; recovery in progress, 55000; a recovery conflict,
   * 40001; a relation or column it has not replayed yet, 42P01/42703). Not the replica's fault.
   */
  rerun: [RerunEvent];
  /**
   * A call was refused at once by the node's bulkhead: it would not have got a connection within
   * `pool_timeout` (or `bulkhead.maxQueue` calls already waited for one).
   */
  shed: [NodeEvent];
  /** A read ran on the primary because no replica could take it. */
  fallback: [FallbackEvent];
  /** A read its replica had not answered after `afterMs` was also sent to `hedgeNode` (`replicas.hedge`). */
  hedge: [HedgeEvent];
  /** The replica monitor saw a replica stop answering. */
  "replica:down": [ReplicaStateEvent];
  /** The replica monitor saw a replica answer (again) and catch up. */
  "replica:up": [ReplicaStateEvent];
  /** A replica fell behind more than the configured lag bound and left rotation. */
  "replica:lagging": [ReplicaStateEvent];
  /** A node does not have the role it was configured with (a "replica" not in recovery, ...). */
  "role:mismatch": [RoleMismatchEvent];
  /**
   * The primary was pointed at another server (`moved`: it was demoted or gone and another
   * candidate takes writes), or reconnected to the same name (`reconnected`: a DNS endpoint).
   */
  "topology:change": [TopologyChangeEvent];
  /** Graceful shutdown began (signal or `$disconnect()`/`$shutdown()`). */
  "shutdown:start": [ShutdownEvent];
  /** Every client, pool and timer is closed. */
  "shutdown:done": [ShutdownDoneEvent];
  /** The HTTP servers of `drainOnShutdown()` answered what they had taken and closed, before the database did. */
  "shutdown:servers": [ServersDrainedEvent];
  /** Every instance's pools together could open more connections than a server allows (checked once). */
  "pool:oversubscribed": [PoolOversubscribedEvent];
}

export interface NodeEvent {
  readonly role: NodeRole;
  readonly node: string;
}

export interface RetryEvent extends NodeEvent {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly error: unknown;
}

export interface RerunEvent extends NodeEvent {
  /** What the replica answered (`a write reached a read-only standby, sqlstate 25006`, ...). */
  readonly fault: string;
  readonly error: unknown;
}

/**
 * What made prisma-split ask the candidates which one is the writer; `promoted`: the replica
 * monitor saw a replica take writes while the primary did not.
 */
export type TopologyTrigger = "start" | "read-only" | "in-recovery" | "unreachable" | "breaker-open" | "promoted";

export interface TopologyChangeEvent {
  /** The node that moved (`primary`). */
  readonly node: string;
  readonly action: "moved" | "reconnected";
  readonly trigger: TopologyTrigger;
  /** Where it pointed, and where it points now (passwords redacted). */
  readonly previous: string;
  readonly current: string;
  /** From the first question to the candidates to the move done. */
  readonly durationMs: number;
  /** What each candidate answered. */
  readonly roles: ReadonlyArray<{ readonly url: string; readonly role: "primary" | "replica" | "unreachable" }>;
}

export interface HedgeEvent extends NodeEvent {
  /** The replica the read was also sent to. */
  readonly hedgeNode: string;
  /** ms the read had waited for `node`. */
  readonly afterMs: number;
}

export interface FallbackEvent {
  /** Why no replica could take the read (`breaker-open`, `down`, `lagging`, ...). */
  readonly reason: string;
}

export interface ReplicaStateEvent extends NodeEvent {
  readonly lagMs: number | undefined;
  readonly lagBytes: number | undefined;
  readonly error?: unknown;
}

export interface RoleMismatchEvent extends NodeEvent {
  /** What the server says it is. */
  readonly actual: NodeRole;
  readonly message: string;
}

export interface ShutdownEvent {
  /** `SIGTERM`, `SIGINT`, or `disconnect` / `shutdown` when called from code. */
  readonly trigger: string;
}

export interface ServersDrainedEvent extends ShutdownEvent {
  /** How many servers were drained. */
  readonly servers: number;
  /** Requests the app was answering when the signal came; each response carried `Connection: close`. */
  readonly inFlight: number;
  /** Keep-alive connections closed as soon as they were idle (with a 503 for a request that crossed the close). */
  readonly idleClosed: number;
  /** Requests that arrived after the signal: answered 503 `shutting-down`, the app never saw them. */
  readonly refused: number;
  /** Connections still open at `shutdown.timeoutMs`, destroyed. */
  readonly destroyed: number;
  /** From the signal until the last connection closed. */
  readonly durationMs: number;
}

export interface ShutdownDoneEvent extends ShutdownEvent {
  /** Whether every in-flight query finished within `shutdown.timeoutMs`. */
  readonly drained: boolean;
  /** Connections still busy when the drain time was up, whose queries were cancelled on the server. */
  readonly cancelled: number;
  readonly durationMs: number;
  /** The first failure while closing clients and pools, if any. */
  readonly error: unknown;
}

export interface PoolOversubscribedEvent {
  /** `host:port` of the server. */
  readonly server: string;
  /** The nodes whose pools reach that server (`primary`, `replica-0`, ...). */
  readonly nodes: readonly string[];
  readonly maxConnections: number;
  readonly reserved: number;
  readonly instances: number;
  /** instances × Σ connection_limit of those pools. */
  readonly planned: number;
  /** max_connections − reserved. */
  readonly budget: number;
  /** A connection_limit per pool that fits. */
  readonly recommendedConnectionLimit: number;
  readonly message: string;
}

export interface QueryEvent {
  readonly role: NodeRole;
  /** `primary`, `replica-0`, ... */
  readonly node: string;
  /** `findMany`, `$queryRaw`, ... */
  readonly operation: string;
  /** `User`'s delegate key (`user`); undefined for raw queries. */
  readonly model: string | undefined;
  readonly reason: RouteReason;
  /**
   * With `replicas.preferZone`, whether the replica that ran it is in that zone (`"local"`) or
   * not (`"remote"`); undefined on the primary and without a preferred zone.
   */
  readonly zone?: "local" | "remote" | undefined;
  readonly durationMs: number;
  readonly error: unknown;
}

/** Why a query went where it went (metrics and events carry it). */
export type RouteReason =
  | "read" // a read on a replica
  | "write" // a write on the primary
  | "transaction" // a $transaction, always on the primary
  | "forced" // $primary() / $replica() / $withPrimary()
  | "fallback" // a read on the primary because no replica could take it
  | "no-replicas" // a read on the primary of a primary-only setup
  | "sticky" // a read on the primary: its consistency context wrote within `stickyMs`
  | "lsn" // a read on the primary: no replica is known to have replayed its context's last write
  | "reads-primary" // a read on the primary: `reads: "primary"`, and the call did not opt into a replica
  | "max-lag" // a read on the primary: no replica is known to be within the call's `maxLagMs`
  | "rerun"; // a read run again on the primary after an error only a replica raises (55000, 40001 recovery conflict, 42P01/42703)

type Listener<Args extends unknown[]> = (...args: Args) => void;

/** A typed EventEmitter; `on()` returns a function that removes the listener. */
export class SplitEvents {
  readonly #emitter = new EventEmitter();

  on<Name extends keyof SplitEventMap>(name: Name, listener: Listener<SplitEventMap[Name]>): () => void {
    this.#emitter.on(name, listener as Listener<unknown[]>);
    return () => this.off(name, listener);
  }

  once<Name extends keyof SplitEventMap>(name: Name, listener: Listener<SplitEventMap[Name]>): () => void {
    this.#emitter.once(name, listener as Listener<unknown[]>);
    return () => this.off(name, listener);
  }

  off<Name extends keyof SplitEventMap>(name: Name, listener: Listener<SplitEventMap[Name]>): void {
    this.#emitter.off(name, listener as Listener<unknown[]>);
  }

  /** Whether anyone listens: lets the hot path skip building a payload nobody reads. */
  has(name: keyof SplitEventMap): boolean {
    return this.#emitter.listenerCount(name) > 0;
  }

  /**
   * Calls every listener of `name`. A listener that throws is the app's fault, not the call's: it
   * is reported as a process warning, and the other listeners and the call that emitted go on.
   */
  emit<Name extends keyof SplitEventMap>(name: Name, ...args: SplitEventMap[Name]): void {
    for (const listener of this.#emitter.rawListeners(name) as Array<Listener<SplitEventMap[Name]>>) {
      try {
        listener(...args);
      } catch (error) {
        process.emitWarning(`prisma-split: a "${name}" event listener threw: ${String(error)}`, {
          code: "PRISMA_SPLIT_LISTENER_THREW",
        });
      }
    }
  }
}

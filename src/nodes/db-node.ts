import type { Pool } from "pg";
import type { ConnectionSettings } from "../config/connection-url.js";
import type { NodeRole } from "../errors.js";
import { createPool } from "./create-pool.js";
import { loadDriver } from "./driver.js";

/** The part of a generated PrismaClient that prisma-split calls itself. */
export interface PrismaClientLike {
  $connect(): Promise<void>;
  $disconnect(): Promise<void>;
  $extends(extension: unknown): unknown;
  $transaction(...args: unknown[]): Promise<unknown>;
}

/**
 * The failure handling around one node's queries (resilience/node-guard.ts: breaker → bulkhead,
 * retry budget). Without one, queries run straight on the node.
 */
export interface NodePolicy {
  /** Runs one query (through the node's counting `run()`) under the node's breaker and bulkhead. */
  execute<T>(start: () => PromiseLike<T>): Promise<T>;
  /** Same for a transaction: refused while the breaker is open, not timed by it. */
  executeUntimed<T>(start: () => PromiseLike<T>): Promise<T>;
  /** A query started on the node, whichever way it came; `inFlightAfter` counts it. */
  started(inFlightAfter: number): void;
  /** A query on the node settled; `inFlightBefore` counts it. */
  finished(inFlightBefore: number): void;
  /** Takes one retry from the node's retry budget; false when it is spent. */
  tryRetry(): boolean;
  /** Seconds until the node is worth trying again (an open breaker's remaining reset time). */
  retryAfterSeconds(): number;
  /** Stops timers and refuses queued calls. */
  close(): void;
}

/** What a health probe last learned about a node. */
export interface NodeObservation {
  readonly reachable: boolean;
  /** When it was learned (ms since epoch). */
  readonly at: number;
  /** What the server says it is (`pg_is_in_recovery()`). */
  readonly actualRole: NodeRole | undefined;
  readonly lagMs: number | undefined;
  readonly lagBytes: number | undefined;
  /** A standby's replayed WAL position (`pg_last_wal_replay_lsn()`): reads there see every commit before it. */
  readonly replayLsn: bigint | undefined;
  readonly error: unknown;
}

/**
 * One database server as this process sees it: its own PrismaClient, PrismaPg adapter and pg
 * pool, and the count of queries it is running for us.
 */
export class DbNode {
  readonly name: string;
  readonly role: NodeRole;
  /** Position among the replicas; -1 for the primary. */
  readonly index: number;
  readonly settings: ConnectionSettings;
  readonly pool: Pool;
  readonly client: PrismaClientLike;
  /** Queries started on this node and not yet settled. */
  inFlight = 0;
  /**
   * Why this node may not take reads right now; each concern (breaker, replica monitor) sets its
   * own flag. Routing skips a replica with any flag set.
   */
  readonly outOfRotation = new Set<string>();
  /** The circuit breaker's state (resilience/ keeps it current). */
  breakerState: "closed" | "open" | "halfOpen" = "closed";
  /** What the replica monitor last saw (undefined until its first poll, or without a monitor). */
  observed: NodeObservation | undefined;
  /** The last error an idle pooled connection reported (the pool drops such connections itself). */
  lastIdleError: Error | undefined;
  /** Breaker, bulkhead and retry budget of this node (attached by createDb unless turned off). */
  policy: NodePolicy | undefined;
  #closed: Promise<void> | undefined;
  /** Resolvers of `whenIdle()` promises, called when `inFlight` drops to zero. */
  #idleWaiters: Array<() => void> = [];

  constructor(init: {
    name: string;
    role: NodeRole;
    index: number;
    settings: ConnectionSettings;
    PrismaClient: new (options: never) => unknown;
    clientOptions: Readonly<Record<string, unknown>>;
  }) {
    this.name = init.name;
    this.role = init.role;
    this.index = init.index;
    this.settings = init.settings;
    this.pool = createPool(init.settings, init.name, (error) => {
      this.lastIdleError = error;
    });
    const { PrismaPg } = loadDriver();
    const adapter = new PrismaPg(this.pool, {
      ...(init.settings.schema === undefined ? {} : { schema: init.settings.schema }),
      disposeExternalPool: false,
    });
    const options = { ...init.clientOptions, adapter } as never;
    this.client = new init.PrismaClient(options) as PrismaClientLike;
  }

  /** Whether reads may be routed here. */
  get servesReads(): boolean {
    return this.outOfRotation.size === 0;
  }

  /** Runs one query on this node, counting it while it is in flight. */
  run<T>(start: () => PromiseLike<T>): Promise<T> {
    this.policy?.started(++this.inFlight);
    let started: PromiseLike<T>;
    try {
      started = start();
    } catch (error) {
      this.#settle();
      return Promise.reject(error);
    }
    // `.then` straight on the query's own promise: wrapping it in Promise.resolve() first costs a
    // microtask and a promise per query (measured: about a third of the routing layer's time).
    // Promise.resolve() of the native promise `.then` returns is that same promise.
    return Promise.resolve(
      started.then(
        (value) => {
          this.#settle();
          return value;
        },
        (error: unknown) => {
          this.#settle();
          throw error;
        },
      ),
    );
  }

  /** Resolves once no query started through `run()` is in flight (at once if none is): shutdown drains with it. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #settle(): void {
    this.policy?.finished(this.inFlight--);
    if (this.inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Runs one query through this node's policy (breaker → bulkhead), counted while in flight. */
  execute<T>(start: () => PromiseLike<T>): Promise<T> {
    const policy = this.policy;
    return policy === undefined ? this.run(start) : policy.execute(start);
  }

  /** Disconnects the client and ends the pool; safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        this.policy?.close();
        await this.client.$disconnect();
      } finally {
        if (!this.pool.ended) await this.pool.end();
      }
    })();
    return this.#closed;
  }
}

import type { Pool } from "pg";
import type { ConnectionSettings } from "../config/connection-url.js";
import type { NodeRole } from "../errors.js";
import { type AbandonablePool, createPool } from "../pool/create-pool.js";
import { loadDriver } from "../pool/driver.js";
import { LatencyEwma } from "./latency-ewma.js";
import { Rotation } from "./rotation.js";

/** The part of a generated PrismaClient that prisma-split calls itself. */
export interface PrismaClientLike {
  $connect(): Promise<void>;
  $disconnect(): Promise<void>;
  $extends(extension: unknown): unknown;
  $transaction(...args: unknown[]): Promise<unknown>;
}

/** What runs on a node: one attempt of a routed call, a transaction, an internal query. */
export interface NodeTask {
  /** Starts it on `node` (its client or its pool); the promise settles with the attempt. */
  startOn(node: DbNode): PromiseLike<unknown>;
}

/** Told of every query's start and end on a node, whichever way it came (the node's bulkhead). */
export interface LoadObserver {
  /** `inFlightAfter` counts the query that started. */
  started(inFlightAfter: number): void;
  /** `inFlightBefore` counts the query that settled. */
  finished(inFlightBefore: number): void;
}

/** What the replica monitor last learned about a node. */
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

/** The settings of one node. */
export interface DbNodeInit {
  readonly name: string;
  readonly role: NodeRole;
  /** Position among the replicas; -1 for the primary. */
  readonly index: number;
  readonly settings: ConnectionSettings;
  readonly PrismaClient: new (options: never) => unknown;
  readonly clientOptions: Readonly<Record<string, unknown>>;
  /** The zone the server runs in (`replicas.preferZone` prefers replicas of one zone). */
  readonly zone?: string | undefined;
  /**
   * Whether `run()` times each query into `latency`: only a selector that reads `latencyMs`
   * (`"fastest"`, a user's function) needs it. Default: true.
   */
  readonly timesQueries?: boolean;
}

/**
 * One database server as this process sees it: its own PrismaClient, PrismaPg adapter and pg
 * pool, the count of queries it is running for us, and why it may not take reads (`rotation`).
 *
 * `close()` ends the pool and disconnects the client as Prisma's `$disconnect()` does: the next
 * query opens a new pool (a pg pool cannot be reopened) under the same PrismaClient, so clients
 * the user extended keep working.
 */
export class DbNode {
  readonly name: string;
  readonly role: NodeRole;
  readonly index: number;
  /** The zone the server runs in; undefined when none was given. */
  readonly zone: string | undefined;
  readonly client: PrismaClientLike;
  /** Why this node may not take reads; each flag has one writer (see Rotation). */
  readonly rotation = new Rotation();
  /** Queries started on this node and not yet settled. */
  inFlight = 0;
  /** When the server last answered one of our queries (ms, `performance.now()`): a result or an error of its own. */
  lastAnsweredAt = performance.now();
  /**
   * How long its statements take on a connection, sent to answered, the fastest of the last
   * second or so (the wait for a free connection excluded: the selector counts that queue through
   * `statements` and `connections`), and a failed call's whole time when that is longer: for
   * `"fastest"` and a user's selector; never fed when `timesQueries` is off.
   */
  readonly latency = new LatencyEwma();
  /** What the replica monitor last saw (its only writer); undefined until its first poll. */
  observed: NodeObservation | undefined;
  /** How many times `retarget()` ran: whoever keeps a connection of its own (the monitor) reconnects when it changes. */
  retargets = 0;
  /** The last error an idle pooled connection reported (the pool drops such connections itself). */
  lastIdleError: Error | undefined;
  #settings: ConnectionSettings;
  /** See `DbNodeInit.timesQueries`: a round-robin read then reads the clock once, as before latency was kept. */
  readonly #timesQueries: boolean;
  /** While set, queries refuse at once with this error (the primary is moving to another server). */
  #refusal: (() => Error) | undefined;
  /** While set, queries wait for it before they start (the roles are being discovered). */
  #hold: Promise<void> | undefined;
  /** Told when the server answered a write with 25006: it is read-only (see `readOnlyAnswered`). */
  #onReadOnly: (() => void) | undefined;
  /** Set while something waits for the server to answer again (see `awaitAnswer`). */
  #answerWaiter: ((role: NodeRole) => void) | undefined;
  /** Told when something starts waiting (the replica monitor, which then looks sooner). */
  #onAwaiting: (() => void) | undefined;
  /** `claimPause()` was called: the pause has its one writer. */
  #pausedBy = false;
  #pool: (Pool & AbandonablePool) | undefined;
  #load: LoadObserver | undefined;
  #closing: Promise<void> | undefined;
  /** Resolvers of `whenIdle()` promises, called when `inFlight` drops to zero. */
  #idleWaiters: Array<() => void> = [];

  constructor(init: DbNodeInit) {
    this.name = init.name;
    this.role = init.role;
    this.index = init.index;
    this.zone = init.zone;
    this.#settings = init.settings;
    this.#timesQueries = init.timesQueries ?? true;
    const { PrismaPg } = loadDriver();
    const adapterOptions = {
      ...(init.settings.schema === undefined ? {} : { schema: init.settings.schema }),
      disposeExternalPool: false,
    };
    const template = new PrismaPg(this.pool, adapterOptions);
    // Prisma asks its adapter factory to connect again after `$disconnect()`: each time, over the
    // node's current pool.
    const adapter = {
      provider: template.provider,
      adapterName: template.adapterName,
      connect: () => new PrismaPg(this.pool, adapterOptions).connect(),
    };
    this.client = new init.PrismaClient({ ...init.clientOptions, adapter } as never) as PrismaClientLike;
  }

  /** The server this node reaches, and how; a primary that follows the writer changes it (`retarget`). */
  get settings(): ConnectionSettings {
    return this.#settings;
  }

  /**
   * Points the node at another server (or the same name again, so DNS re-resolves): its pool is
   * dropped and its client disconnected, so the next query connects anew under the same
   * PrismaClient. Statements in flight on the old pool finish or fail on their own; they are
   * not waited for (a dead server would hold the move up).
   */
  async retarget(settings: ConnectionSettings = this.#settings): Promise<void> {
    const old = this.#pool;
    this.#settings = settings;
    this.retargets++;
    this.#pool = undefined;
    try {
      await this.client.$disconnect();
    } finally {
      if (old !== undefined && !old.ended) old.end().catch(() => {});
    }
  }

  /**
   * The one writer of this node's pause (the primary follower): `refuse(makeError)` makes queries
   * fail at once, `hold(promise)` makes them wait for it; `refuse(undefined)` lifts the refusal.
   */
  claimPause(): { refuse(makeError: (() => Error) | undefined): void; hold(until: Promise<void>): void } {
    if (this.#pausedBy) throw new Error(`prisma-split: ${this.name}'s pause already has a writer`);
    this.#pausedBy = true;
    return {
      refuse: (makeError) => {
        this.#refusal = makeError;
      },
      hold: (until) => {
        const settled = until.then(
          () => {},
          () => {},
        );
        this.#hold = settled;
        settled.then(() => {
          if (this.#hold === settled) this.#hold = undefined;
        });
      },
    };
  }

  /** Sets who hears that this node answered a write with 25006 (the primary follower); once. */
  watchReadOnly(listener: () => void): void {
    if (this.#onReadOnly !== undefined) throw new Error(`prisma-split: ${this.name} already has a read-only watcher`);
    this.#onReadOnly = listener;
  }

  /** The server refused a write as read-only (25006): resilience/ says so, the follower listens. */
  readOnlyAnswered(): void {
    this.#onReadOnly?.();
  }

  /**
   * Sets (or, with undefined, clears) the one waiter for this server to answer again: the node's
   * open breaker. While one waits, the replica monitor probes sooner, and it and the primary
   * follower hand it what their own probes found (`probeAnswered`), so recovery does not wait out
   * a timer.
   */
  awaitAnswer(waiter: ((role: NodeRole) => void) | undefined): void {
    const starts = waiter !== undefined && this.#answerWaiter === undefined;
    this.#answerWaiter = waiter;
    if (starts) this.#onAwaiting?.();
  }

  /** Sets who is told when something starts waiting for this server to answer (the replica monitor); once. */
  watchAwaiting(listener: () => void): void {
    if (this.#onAwaiting !== undefined) throw new Error(`prisma-split: ${this.name} already has an awaiting watcher`);
    this.#onAwaiting = listener;
  }

  /** Whether something waits for this server to answer a probe (see `awaitAnswer`). */
  get awaitingAnswer(): boolean {
    return this.#answerWaiter !== undefined;
  }

  /** A probe on a connection of its own (the monitor's, the follower's) was answered: the server is up, as `role`. */
  probeAnswered(role: NodeRole): void {
    this.#answerWaiter?.(role);
  }

  /** The node's pg pool; a new one once the last was closed. */
  get pool(): Pool & AbandonablePool {
    if (this.#pool === undefined || this.#pool.ended) {
      this.#pool = createPool(
        this.settings,
        this.name,
        (error) => {
          this.lastIdleError = error;
        },
        this.#timesQueries ? this.#onStatement : undefined,
      );
    }
    return this.#pool;
  }

  /** The pool as it is, without opening one (health and metrics only look). */
  get currentPool(): Pool | undefined {
    return this.#pool;
  }

  /** Its recent answer time in ms (see LatencyEwma); undefined before its first answer. */
  get latencyMs(): number | undefined {
    return this.latency.estimate();
  }

  /** How many of its queries can run at once (its pool's size); more wait for a connection. */
  get connections(): number {
    return this.#settings.poolMax;
  }

  /**
   * Its statements on a connection or waiting for one, as its pool counts them. Unlike `inFlight`
   * it leaves out the calls still in Prisma's JavaScript (compiling, decoding, or waiting for a
   * busy event loop): with a busy client those are most of them, and they are no queue of the
   * server's.
   */
  get statements(): number {
    const pool = this.#pool;
    return pool === undefined ? 0 : pool.totalCount - pool.idleCount + pool.waitingCount;
  }

  readonly #onStatement = (ms: number, answered: boolean): void => {
    if (answered) this.latency.observe(ms);
    else this.latency.penalize(ms);
  };

  /** Whether reads may be routed here. */
  get servesReads(): boolean {
    return this.rotation.clear;
  }

  /** Sets the one observer of this node's load (its bulkhead); once. */
  observeLoad(observer: LoadObserver): void {
    if (this.#load !== undefined) throw new Error(`prisma-split: ${this.name} already has a load observer`);
    this.#load = observer;
  }

  /**
   * Runs one task on this node, counting it while it is in flight. `mapError` turns a failure into
   * what the caller is to see (resilience/ classifies it there, once); `retargeted` says the node
   * was pointed at another server while the task ran, so its failure is about the old one.
   */
  run(task: NodeTask, mapError: (error: unknown, retargeted: boolean) => unknown = same): Promise<unknown> {
    if (this.#refusal !== undefined) return Promise.reject(mapError(this.#refusal(), false));
    if (this.#hold !== undefined) return this.#hold.then(() => this.run(task, mapError));
    this.#load?.started(++this.inFlight);
    const retargets = this.retargets;
    // Answers are timed per statement by the pool; a failed call's whole time may still say more
    // (it waited for a connection to a server that does not accept any).
    const timed = this.#timesQueries;
    const startedAt = timed ? performance.now() : 0;
    let started: PromiseLike<unknown>;
    try {
      started = task.startOn(this);
    } catch (error) {
      this.#settle();
      return Promise.reject(mapError(error, false));
    }
    // `.then` straight on the query's own promise: wrapping it in Promise.resolve() first costs a
    // microtask and a promise per query. Promise.resolve() of the native promise `.then` returns
    // is that same promise.
    return Promise.resolve(
      started.then(
        (value) => {
          const now = performance.now();
          this.lastAnsweredAt = now;
          this.#settle();
          return value;
        },
        (error: unknown) => {
          if (timed) {
            const now = performance.now();
            this.latency.penalize(now - startedAt, now);
          }
          this.#settle();
          throw mapError(error, this.retargets !== retargets);
        },
      ),
    );
  }

  /** The server answered a query with an error of its own (resilience/ tells which errors are answers). */
  answered(): void {
    this.lastAnsweredAt = performance.now();
  }

  /** How long no query of ours has had an answer from the server, in ms. */
  get silentForMs(): number {
    return performance.now() - this.lastAnsweredAt;
  }

  /**
   * The server stopped answering (a frozen process, a black-holed network): calls waiting for a
   * connection are answered at once with a `NodeSilentError` (never sent) and the connections in
   * use are closed, so nothing waits on it any more; the router sends what may move elsewhere.
   * Returns how many calls it ended.
   */
  abandon(): number {
    return this.#pool?.abandon(new NodeSilentError(this.name)) ?? 0;
  }

  /** Resolves once no query started through `run()` is in flight (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #settle(): void {
    this.#load?.finished(this.inFlight--);
    if (this.inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Disconnects the client and ends the pool; the next query opens them again. Joins a close under way. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const pool = this.#pool;
      try {
        await this.client.$disconnect();
      } finally {
        if (pool !== undefined && !pool.ended) await pool.end();
        this.#closing = undefined;
      }
    })();
    return this.#closing;
  }
}

/** What a call waiting for a connection of a node found hung is answered with: it was never sent. */
export class NodeSilentError extends Error {
  override readonly name = "NodeSilentError";
  readonly code = "PRISMA_SPLIT_NODE_SILENT";

  constructor(node: string) {
    super(`prisma-split: ${node} stopped answering; the call, never sent, goes elsewhere if it may`);
  }
}

function same(error: unknown): unknown {
  return error;
}

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
  #closed: Promise<void> | undefined;

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
    this.inFlight++;
    let settled: Promise<T>;
    try {
      settled = Promise.resolve(start());
    } catch (error) {
      this.inFlight--;
      return Promise.reject(error);
    }
    return settled.then(
      (value) => {
        this.inFlight--;
        return value;
      },
      (error: unknown) => {
        this.inFlight--;
        throw error;
      },
    );
  }

  /** Disconnects the client and ends the pool; safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.client.$disconnect();
      } finally {
        if (!this.pool.ended) await this.pool.end();
      }
    })();
    return this.#closed;
  }
}

import CircuitBreaker from "opossum";
import { DatabaseUnavailableError, isDatabaseUnavailable, type NodeRole } from "../errors.js";
import { isInfrastructureFault } from "./classify-fault.js";

/**
 * What the breaker counts as a failure: infrastructure faults, and a call that waited in the
 * bulkhead's queue for `pool_timeout` without a slot (the node is not finishing its queries).
 * Query errors count as successes. A call shed at once never reaches the breaker.
 */
function countsAsFailure(error: unknown): boolean {
  return isInfrastructureFault(error) || (isDatabaseUnavailable(error) && error.reason === "overloaded");
}

/** opossum's options that prisma-split sets, with database-minded values (see `DEFAULT_BREAKER_OPTIONS`). */
export interface BreakerSettings {
  readonly timeout: number | false;
  readonly resetTimeout: number;
  readonly errorThresholdPercentage: number;
  readonly volumeThreshold: number;
  readonly rollingCountTimeout: number;
  readonly rollingCountBuckets: number;
  /** Opens after this many infrastructure failures in a row, whatever the window holds; false = off. */
  readonly consecutiveFailures: number | false;
}

export type BreakerState = "closed" | "open" | "halfOpen";

/** Called on every state change, so the node, the router and `db.$events` follow. */
export type BreakerListener = (state: BreakerState) => void;

/** What the breaker runs calls on: the node, whose `run()` counts them. */
export interface CallTarget {
  run<T>(start: () => PromiseLike<T>): Promise<T>;
}

type Start = () => PromiseLike<unknown>;

/** opossum's action: the target and the call are arguments, so no closure is made per call. */
function runOnTarget(target: CallTarget, start: Start): Promise<unknown> {
  return target.run(start);
}

/**
 * One node's circuit breaker (never one per model: it is the server that fails). Only
 * infrastructure faults count as failures (`errorFilter` counts query errors as successes);
 * opossum's `capacity` is left unlimited, since its rejections would count as failures — the
 * bulkhead limits concurrency instead.
 *
 * @example
 * const breaker = new NodeBreaker(settings, { role: "primary", node: "primary" }, (state) => log(state));
 * await breaker.execute(node, () => runQuery());
 */
export class NodeBreaker {
  readonly #breaker: CircuitBreaker<[CallTarget, Start], unknown>;
  readonly #settings: BreakerSettings;
  readonly #who: { readonly role: NodeRole; readonly node: string };
  readonly #now: () => number;
  #openedAt = 0;

  constructor(
    settings: BreakerSettings,
    who: { readonly role: NodeRole; readonly node: string },
    onChange: BreakerListener,
    now: () => number = Date.now,
  ) {
    this.#settings = settings;
    this.#who = who;
    this.#now = now;
    this.#breaker = new CircuitBreaker<[CallTarget, Start], unknown>(runOnTarget, {
      name: `prisma-split:${who.node}`,
      timeout: settings.timeout,
      resetTimeout: settings.resetTimeout,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      rollingCountTimeout: settings.rollingCountTimeout,
      rollingCountBuckets: settings.rollingCountBuckets,
      errorFilter: (error: Error) => !countsAsFailure(error),
      // No percentile bookkeeping or snapshot timer per call: nobody reads them.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      status: countingStatus(settings),
    } as CircuitBreaker.Options<[CallTarget, Start]>);
    this.#breaker.on("open", () => {
      this.#openedAt = this.#now();
      onChange("open");
    });
    this.#breaker.on("halfOpen", () => onChange("halfOpen"));
    this.#breaker.on("close", () => onChange("closed"));
    // opossum's rule is a percentage over a time window: after minutes of successes a dead node
    // needs as many failures again before it opens. A streak of failures says it at once.
    const streakLimit = settings.consecutiveFailures;
    if (streakLimit !== false) {
      let streak = 0;
      this.#breaker.on("success", () => {
        streak = 0;
      });
      this.#breaker.on("failure", () => {
        streak += 1;
        if (streak >= streakLimit && this.#breaker.closed) this.#breaker.open();
      });
      this.#breaker.on("open", () => {
        streak = 0;
      });
    }
  }

  get state(): BreakerState {
    if (this.#breaker.halfOpen) return "halfOpen";
    return this.#breaker.opened ? "open" : "closed";
  }

  /**
   * Runs `target.run(start)` through the breaker; refuses at once with a 503 error while it is
   * open. The refusal is decided here, by opossum's own rule (open, or half-open with its trial
   * call taken), so a refused call never enters opossum and an admitted call's outcome needs no
   * translation: no extra promise per call.
   */
  execute<T>(target: CallTarget, start: () => PromiseLike<T>): Promise<T> {
    const breaker = this.#breaker;
    if (breaker.isShutdown) return Promise.reject(this.#shuttingDown());
    if (!breaker.closed && !breaker.pendingClose) return Promise.reject(this.#refusal());
    return breaker.fire(target, start) as Promise<T>;
  }

  /** Seconds until an open breaker lets a trial call through (at least 1). */
  retryAfterSeconds(): number {
    if (this.state !== "open") return 1;
    const remainingMs = this.#settings.resetTimeout - (this.#now() - this.#openedAt);
    return Math.max(1, Math.ceil(remainingMs / 1000));
  }

  /** Stops the breaker's timers; later calls are refused as shutting down. */
  shutdown(): void {
    if (!this.#breaker.isShutdown) this.#breaker.shutdown();
  }

  #refusal(): DatabaseUnavailableError {
    return new DatabaseUnavailableError(
      `prisma-split: the circuit breaker of ${this.#who.node} (${this.#who.role}) is open after repeated failures`,
      {
        role: this.#who.role,
        node: this.#who.node,
        reason: "breaker-open",
        retryAfterSeconds: this.retryAfterSeconds(),
      },
    );
  }

  #shuttingDown(): DatabaseUnavailableError {
    return new DatabaseUnavailableError(`prisma-split: ${this.#who.node} is shutting down`, {
      role: this.#who.role,
      node: this.#who.node,
      reason: "shutting-down",
    });
  }
}

/**
 * opossum's rolling window, without the latency list. opossum 9 keeps every call's latency for the
 * whole window even with `rollingPercentilesEnabled: false` (its `Status.increment` ignores the
 * flag): at 20 000 queries/s that is 200 000 numbers per node, held for 10 s. Counts are all the
 * breaker needs. `test/unit/circuit-breaker-memory.test.ts` breaks if opossum changes this.
 */
export function countingStatus(settings: {
  rollingCountTimeout: number;
  rollingCountBuckets: number;
}): CircuitBreaker.Status {
  const status = CircuitBreaker.newStatus({
    rollingCountTimeout: settings.rollingCountTimeout,
    rollingCountBuckets: settings.rollingCountBuckets,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  } as CircuitBreaker.StatusOptions);
  const counting = status as unknown as { window: Array<Record<string, number>>; increment(property: string): void };
  counting.increment = function increment(this: typeof counting, property: string) {
    const bucket = this.window[0];
    if (bucket !== undefined) bucket[property] = (bucket[property] ?? 0) + 1;
  };
  return status;
}

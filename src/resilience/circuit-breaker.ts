import CircuitBreaker from "opossum";
import type { BreakerSettings } from "../config/resolve-resilience.js";
import type { NodeRole } from "../errors.js";
import { AttemptFailure } from "./attempt-failure.js";
import { verdictOn } from "./classify-fault.js";
import { type CountingWindow, countingStatus } from "./opossum-internals.js";
import { breakerOpenError, shuttingDownError } from "./refusals.js";

/**
 * What the breaker counts as a failure: a sick node (fault kind `node`, or a pool wait that timed
 * out while the node answered nothing at all), nothing else. A slow query ended by the server, a
 * misrouted write, a configuration fault and a busy pool say nothing about the node's health;
 * opossum counts them as successes.
 */
function countsAsFailure(failure: unknown): boolean {
  return failure instanceof AttemptFailure && failure.sickNode;
}

export type BreakerState = "closed" | "open" | "halfOpen";

/** Called on every state change, so the node, the router and `db.$events` follow. */
export type BreakerListener = (state: BreakerState) => void;

/** What the breaker guards: one run of `task` on the node. */
export type GuardedRun<T> = (task: T) => Promise<unknown>;

/** opossum's action: the run and its task are arguments, so no closure is made per call. */
function runGuarded(run: GuardedRun<unknown>, task: unknown): Promise<unknown> {
  return run(task);
}

/** The "run" of a call that already ran and failed: opossum only judges its failure. */
const ALREADY_FAILED: GuardedRun<unknown> = (failure) => Promise.reject(failure);

/**
 * One node's circuit breaker (never one per model: it is the server that fails), a layer of the
 * node's policy stack. Only a sick node's faults count as failures (`errorFilter` counts the
 * rest as successes); opossum's `capacity` is left unlimited, since its rejections would count as
 * failures — the bulkhead limits concurrency instead.
 *
 * opossum decides every state change (its window, threshold, reset timer and half-open trial);
 * while it is closed, a call that succeeds is only counted in opossum's window — `fire()` would
 * add three promises, two closures and three events to every query for the same two counts — and
 * a call that fails is handed to opossum to judge. The outcome of a call admitted while closed that
 * arrives after the breaker opened is counted and decides nothing: the half-open trial decides.
 *
 * @example
 * const breaker = new NodeBreaker(settings, { role: "primary", node: "primary" }, next, (state) => log(state));
 * await breaker.execute(runQuery, call);
 */
export class NodeBreaker {
  readonly #breaker: CircuitBreaker<[GuardedRun<unknown>, unknown], unknown>;
  readonly #window: CountingWindow;
  readonly #settings: BreakerSettings;
  readonly #who: { readonly role: NodeRole; readonly node: string };
  readonly #now: () => number;
  /** Node faults in a row (the consecutive-failures rule). */
  #streak = 0;
  #openedAt = 0;
  readonly #succeededWhileClosed = (value: unknown): unknown => {
    this.#window.increment("fires");
    this.#window.increment("successes");
    this.#streak = 0;
    return value;
  };
  readonly #failedWhileClosed = (failure: unknown): Promise<never> => {
    if (this.#breaker.closed) return this.#breaker.fire(ALREADY_FAILED, failure) as Promise<never>;
    // It opened while the call ran: the outcome is counted, but a call that started before that
    // says nothing new about the node, so it decides nothing (opossum's fire() would reopen a
    // half-open breaker on it; the trial call is what decides there).
    this.#window.increment("fires");
    this.#window.increment(countsAsFailure(failure) ? "failures" : "successes");
    return Promise.reject(failure);
  };

  constructor(
    settings: BreakerSettings,
    who: { readonly role: NodeRole; readonly node: string },
    onChange: BreakerListener,
    now: () => number = Date.now,
  ) {
    this.#settings = settings;
    this.#who = who;
    this.#now = now;
    const status = countingStatus(settings);
    this.#window = status as unknown as CountingWindow;
    this.#breaker = new CircuitBreaker<[GuardedRun<unknown>, unknown], unknown>(runGuarded, {
      name: `prisma-split:${who.node}`,
      timeout: false,
      resetTimeout: settings.resetTimeout,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      rollingCountTimeout: settings.rollingCountTimeout,
      rollingCountBuckets: settings.rollingCountBuckets,
      errorFilter: (failure: unknown) => !countsAsFailure(failure),
      // No percentile bookkeeping or snapshot timer per call: nobody reads them.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      status,
    } as CircuitBreaker.Options<[GuardedRun<unknown>, unknown]>);
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
      // opossum reports a filtered error as a success too. A server that answered (a result, a
      // query error) ends the streak; a call that never got a connection proves nothing either way.
      this.#breaker.on("success", (outcome: unknown) => {
        if (!(outcome instanceof AttemptFailure) || verdictOn(outcome.fault) === "alive") this.#streak = 0;
      });
      this.#breaker.on("failure", () => {
        this.#streak += 1;
        if (this.#streak >= streakLimit && this.#breaker.closed) this.#breaker.open();
      });
      this.#breaker.on("open", () => {
        this.#streak = 0;
      });
    }
  }

  get state(): BreakerState {
    if (this.#breaker.halfOpen) return "halfOpen";
    return this.#breaker.opened ? "open" : "closed";
  }

  /**
   * `run(task)` through the breaker; refuses at once with a 503 error while it is open. The
   * refusal is decided here, by opossum's own rule (open, or half-open with its trial call taken),
   * so a refused call never enters opossum.
   */
  execute<T>(run: GuardedRun<T>, task: T): Promise<unknown> {
    const breaker = this.#breaker;
    if (breaker.closed) return run(task).then(this.#succeededWhileClosed, this.#failedWhileClosed);
    if (breaker.isShutdown) {
      return Promise.reject(shuttingDownError(this.#who.role, `${this.#who.node} is shutting down`, this.#who.node));
    }
    if (!breaker.pendingClose) return Promise.reject(breakerOpenError(this.#who, this.retryAfterSeconds()));
    // Half-open: opossum runs its trial call and closes or reopens on its outcome.
    return breaker.fire(run as GuardedRun<unknown>, task);
  }

  /** Seconds until an open breaker lets a trial call through (at least 1). */
  retryAfterSeconds(): number {
    if (this.state !== "open") return 1;
    const remainingMs = this.#settings.resetTimeout - (this.#now() - this.#openedAt);
    return Math.max(1, Math.ceil(remainingMs / 1000));
  }

  /**
   * Closes an open breaker at once, and forgets the streak of failures: the node it guarded now
   * reaches another server (a primary that moved), or a probe found it answering again. opossum
   * offers no public way into half-open; closing is what a successful trial call does, and the
   * failures still in its window (or a new streak) open it again if the node keeps failing. A
   * failure of a call admitted before, arriving later, is the old server's
   * (AttemptFailure.retargeted) and counts for nothing.
   */
  reset(): void {
    this.#streak = 0;
    if (!this.#breaker.isShutdown && !this.#breaker.closed) this.#breaker.close();
  }

  /** Opens a closed breaker at once: the node was found hung, so its calls should fail fast now. */
  trip(): void {
    if (!this.#breaker.isShutdown && this.#breaker.closed) this.#breaker.open();
  }

  /** Stops the breaker's timers; later calls are refused as shutting down. */
  shutdown(): void {
    if (!this.#breaker.isShutdown) this.#breaker.shutdown();
  }
}

export type { BreakerSettings } from "../config/resolve-resilience.js";

import retry from "async-retry";
import { DatabaseUnavailableError, isDatabaseUnavailable, type NodeRole } from "../errors.js";
import type { SplitEvents } from "../lifecycle/events.js";
import type { DbNode } from "../nodes/db-node.js";
import type { QueryKind, RouteDecision, Router } from "../routing/router.js";
import { type BackoffSettings, fullJitterDelay } from "./backoff.js";
import { classifyFault, type Fault, POOL_ACQUIRE_TIMEOUT } from "./classify-fault.js";
import { withDeadline } from "./deadline.js";
import { waitUnlessAborted } from "./wait.js";

/** How a failed attempt is retried. */
export interface RetrySettings extends BackoffSettings {
  /** Attempts after the first. */
  readonly retries: number;
}

export interface CallPolicySettings {
  readonly retry: RetrySettings | false;
  /** Bound of one call, every attempt and wait included, in ms; false = none. */
  readonly deadlineMs: number | false;
  /** Source of jitter; injectable for tests. */
  readonly random?: () => number;
}

/** What the policy needs from the shared context: the closing signal and its error. */
export interface ShutdownGate {
  readonly closed: boolean;
  readonly closingSignal: AbortSignal;
  closedError(): Error;
}

/** One call as the policy sees it. */
export interface CallShape {
  readonly kind: QueryKind;
}

/**
 * What runs the attempts of calls: the client view that made them. An object with a method
 * rather than a callback per call, so routing a call allocates no closure.
 */
export interface AttemptRunner<C extends CallShape> {
  /** The role this view's calls are tagged with (`$primary()`, `$replica()`), if any. */
  readonly forced: NodeRole | undefined;
  /** Runs one attempt of `call` on the node `decision` names. */
  runOn(call: C, decision: RouteDecision): Promise<unknown>;
}

/**
 * The per-call half of the failure handling, in DESIGN.md's order: shutdown gate → deadline →
 * retry (with each node's budget) → the chosen node's breaker → bulkhead → the query.
 * Each attempt is routed anew, away from the nodes that already failed this call.
 *
 * - Reads are retried on infrastructure faults, on another replica or the primary.
 * - Writes (raw SQL included) are retried only when the fault proves the statement never
 *   reached the server (refused connection, pool-acquire timeout).
 * - Query errors and prisma-split's own refusals are never retried; query errors pass untouched.
 * - An infrastructure fault that is not retried (or the last one) becomes a
 *   `DatabaseUnavailableError` (503) with the original as `cause`.
 */
export class CallPolicy {
  readonly #router: Router;
  readonly #events: SplitEvents;
  readonly #gate: ShutdownGate;
  readonly #settings: CallPolicySettings;
  readonly #random: () => number;

  constructor(router: Router, events: SplitEvents, gate: ShutdownGate, settings: CallPolicySettings) {
    this.#router = router;
    this.#events = events;
    this.#gate = gate;
    this.#settings = settings;
    this.#random = settings.random ?? Math.random;
  }

  execute<C extends CallShape>(call: C, runner: AttemptRunner<C>): Promise<unknown> {
    if (this.#gate.closed) return Promise.reject(this.#gate.closedError());
    const deadlineMs = this.#settings.deadlineMs;
    if (deadlineMs === false) return this.#attempts(call, runner, Number.POSITIVE_INFINITY);
    const trail: Trail = { node: undefined };
    return withDeadline(
      (deadlineAt) => this.#attempts(call, runner, deadlineAt, trail),
      deadlineMs,
      () => {
        const role = trail.node?.role ?? (call.kind === "write" || runner.forced === "primary" ? "primary" : "replica");
        return new DatabaseUnavailableError(`prisma-split: the query did not complete within ${deadlineMs} ms`, {
          role,
          reason: "unreachable",
          ...(trail.node === undefined ? {} : { node: trail.node.name }),
        });
      },
    );
  }

  /**
   * The first attempt runs straight on the node the router picks: nearly every call succeeds
   * there, and the retry machinery (async-retry's loop, the set of failed nodes) is set up only
   * for one that did not.
   */
  #attempts<C extends CallShape>(
    call: C,
    runner: AttemptRunner<C>,
    deadlineAt: number,
    trail?: Trail,
  ): Promise<unknown> {
    let decision: RouteDecision;
    try {
      decision = this.#route(call, runner.forced, NO_NODES);
    } catch (error) {
      return Promise.reject(error);
    }
    if (trail !== undefined) trail.node = decision.node;
    const first = runner.runOn(call, decision);
    return first.then(undefined, () =>
      this.#recover(call, runner, deadlineAt, trail ?? { node: decision.node }, decision, first),
    );
  }

  /** After a failed first attempt (`first`, on `firstDecision`): re-routing of refused reads, then retries. */
  #recover<C extends CallShape>(
    call: C,
    runner: AttemptRunner<C>,
    deadlineAt: number,
    trail: Trail,
    firstDecision: RouteDecision,
    first: Promise<unknown>,
  ): Promise<unknown> {
    const settings = this.#settings.retry;
    const failed = new Set<DbNode>();
    let lastError: unknown;
    return retry<unknown>(
      async (bail, attempt) => {
        let decision = firstDecision;
        if (attempt > 1) {
          try {
            decision = this.#route(call, runner.forced, failed);
          } catch (error) {
            // No node left to route to (fallback off): report the fault that emptied the list.
            bail(lastError === undefined ? (error as Error) : this.#unavailable(lastError, trail.node!, attempt - 1));
            return undefined;
          }
        }
        try {
          return await this.#runRerouting(call, decision, failed, runner, trail, attempt === 1 ? first : undefined);
        } catch (error) {
          const node = trail.node!;
          const fault = classifyFault(error);
          if (fault.kind !== "infrastructure") {
            // A refusal (breaker open, shed) settles without any I/O. A caller that retries at
            // once in a loop would then run on microtasks alone and starve every timer and
            // socket of the process; one turn of the event loop first keeps it fair.
            if (fault.kind === "refusal") await new Promise((resolve) => setImmediate(resolve));
            bail(error as Error);
            return undefined;
          }
          failed.add(node);
          lastError = error;
          const delayMs = settings === false ? 0 : fullJitterDelay(attempt, settings, this.#random);
          if (!this.#mayRetry(call, fault, attempt, node, deadlineAt, delayMs)) {
            bail(this.#unavailable(error, node, attempt));
            return undefined;
          }
          if (this.#events.has("retry")) {
            this.#events.emit("retry", { role: node.role, node: node.name, attempt, delayMs, error });
          }
          if (!(await waitUnlessAborted(delayMs, this.#gate.closingSignal))) {
            bail(this.#gate.closedError());
            return undefined;
          }
          throw error;
        }
      },
      // The waits are ours (full jitter, cancellable): async-retry only runs the loop.
      { retries: settings === false ? 0 : settings.retries, minTimeout: 0, maxTimeout: 0, factor: 1, randomize: false },
    );
  }

  #mayRetry(call: CallShape, fault: Fault, attempt: number, node: DbNode, deadlineAt: number, delay: number): boolean {
    const settings = this.#settings.retry;
    if (settings === false || attempt > settings.retries) return false;
    if (call.kind === "read" ? !fault.retryable : !fault.notSent) return false;
    if (this.#gate.closingSignal.aborted || Date.now() + delay >= deadlineAt) return false;
    return node.policy === undefined || node.policy.tryRetry();
  }

  #route(call: CallShape, forced: NodeRole | undefined, failed: ReadonlySet<DbNode>): RouteDecision {
    const decision = this.#router.route(call.kind, forced, failed.size === 0 ? undefined : failed);
    if (decision.reason === "fallback" && this.#events.has("fallback")) {
      this.#events.emit("fallback", { reason: this.#router.whyNoReplica(failed) });
    }
    return decision;
  }

  /**
   * Runs one attempt. A read refused by a node's breaker (open, or half-open and busy with its
   * trial call) or shed by its full bulkhead has not run anywhere: it goes on at once to the
   * next node the router offers, which has its own breaker and bulkhead. Not a retry: nothing
   * is run twice and no budget is spent. `started`: the attempt on `first`, if already running.
   */
  async #runRerouting<C extends CallShape>(
    call: C,
    first: RouteDecision,
    failed: ReadonlySet<DbNode>,
    runner: AttemptRunner<C>,
    trail: Trail,
    started?: Promise<unknown>,
  ): Promise<unknown> {
    let decision = first;
    let running = started;
    const refused = new Set<DbNode>(failed);
    for (;;) {
      trail.node = decision.node;
      try {
        return await (running ?? runner.runOn(call, decision));
      } catch (error) {
        if (call.kind !== "read" || !isRefusedBeforeRunning(error)) throw error;
        refused.add(decision.node);
        const next = this.#route(call, runner.forced, refused);
        if (refused.has(next.node)) throw error;
        decision = next;
        running = undefined;
      }
    }
  }

  /** The 503 error for an infrastructure fault the call gives up on. */
  #unavailable(error: unknown, node: DbNode, attempt: number): DatabaseUnavailableError {
    if (isDatabaseUnavailable(error)) return error;
    const fault = classifyFault(error);
    const tries = attempt > 1 ? ` after ${attempt} attempts` : "";
    // A call cut short by our own shutdown (its query cancelled, its pool ended) says so.
    const closing = this.#gate.closingSignal.aborted;
    const during = closing ? " during shutdown" : "";
    return new DatabaseUnavailableError(
      `prisma-split: ${node.name} (${node.role}) failed${tries}${during}: ${fault.label}`,
      {
        role: node.role,
        node: node.name,
        reason: closing
          ? "shutting-down"
          : fault.label === POOL_ACQUIRE_TIMEOUT
            ? "overloaded"
            : attempt > 1
              ? "retries-exhausted"
              : "unreachable",
        retryAfterSeconds: node.policy?.retryAfterSeconds() ?? 1,
        cause: error,
      },
    );
  }
}

const NO_NODES: ReadonlySet<DbNode> = new Set();

function isRefusedBeforeRunning(error: unknown): boolean {
  return isDatabaseUnavailable(error) && (error.reason === "breaker-open" || error.reason === "overloaded");
}

/** The node the call last ran on, for errors built outside the attempt loop. */
interface Trail {
  node: DbNode | undefined;
}

/**
 * A transaction on the primary: never retried (its statements are the user's), refused while the
 * primary's breaker is open, and an infrastructure fault becomes a 503 error.
 */
export function runTransaction<T>(gate: ShutdownGate, primary: DbNode, start: () => Promise<T>): Promise<T> {
  if (gate.closed) return Promise.reject(gate.closedError());
  const running = primary.policy === undefined ? primary.run(start) : primary.policy.executeUntimed(start);
  return running.catch((error: unknown) => {
    if (classifyFault(error).kind !== "infrastructure") throw error;
    throw new DatabaseUnavailableError(`prisma-split: the transaction failed on ${primary.name}`, {
      role: primary.role,
      node: primary.name,
      reason: "unreachable",
      retryAfterSeconds: primary.policy?.retryAfterSeconds() ?? 1,
      cause: error,
    });
  });
}

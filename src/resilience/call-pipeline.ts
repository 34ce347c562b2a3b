import { DatabaseUnavailableError, type NodeRole } from "../errors.js";
import type { SplitEvents } from "../events.js";
import type { DbNode } from "../nodes/db-node.js";
import type { StatementTicket } from "../nodes/statement-ticket.js";
import type { ReadYourWrites } from "../routing/consistency/read-your-writes.js";
import type { QueryKind, RouteDecision, Router } from "../routing/router.js";
import { type AttemptFailure, toAttemptFailure } from "./attempt-failure.js";
import type { AttemptTracer } from "./attempt-tracer.js";
import { UNANSWERED_COMMIT } from "./classify-fault.js";
import { bounded, currentDeadline } from "./deadline.js";
import { decide } from "./decide.js";
import type { Hedge } from "./hedge.js";
import type { NodeGuard } from "./node-guard.js";
import { RetryLater, type RetryPolicy } from "./retry-policy.js";
import { attemptMayHaveApplied, surfaceFailure } from "./surface-failure.js";

/** One call as the pipeline sees it. */
export interface PipelineCall {
  readonly kind: QueryKind;
  /**
   * Prisma may run it in one statement with other calls of the same tick (`findUnique`): its
   * statement is not this call's alone to cancel when a hedge of it loses or its deadline expires.
   */
  readonly batchable?: boolean;
}

/**
 * What runs a call's attempt on a node: the client view that made the call. One object with a
 * method rather than a callback per call, so routing a call allocates no closure.
 */
export interface CallView<C extends PipelineCall> {
  /** The role this view's calls are tagged with (`$primary()`, `$replica()`), if any. */
  readonly forced: NodeRole | undefined;
  /** Runs one attempt of `call` on the node `decision` names (the node's client, nothing else). */
  runOn(call: C, decision: RouteDecision): PromiseLike<unknown>;
}

/** Whether calls are taken: shutdown refuses them for good; a `$disconnect()` reopens on the next. */
export interface CallGate {
  /** True while calls go straight through (the common case; one field read). */
  readonly open: boolean;
  /** Resolves when calls may go on (after a disconnect under way, reopened); rejects once shut down. */
  whenOpen(): Promise<void>;
  readonly closingSignal: AbortSignal;
  readonly closed: boolean;
}

export interface PipelineParts {
  readonly router: Router;
  readonly guards: ReadonlyMap<DbNode, NodeGuard>;
  readonly events: SplitEvents;
  readonly gate: CallGate;
  readonly retry: RetryPolicy;
  /** Bound of every call, attempts and waits included (`queryTimeoutMs`); `$withDeadline` may tighten it. */
  readonly deadlineMs: number | false;
  /** Hedged reads (`replicas.hedge`); undefined when off. */
  readonly hedge?: Hedge | undefined;
  /** OpenTelemetry spans per attempt; undefined when off or not installed. */
  readonly tracer?: AttemptTracer | undefined;
  /**
   * Records, in the call's consistency context, a write found by its 25006 (a read that wrote):
   * the context's next reads must see it as they see any other write.
   */
  readonly readYourWrites?: Pick<ReadYourWrites, "afterWrite"> | undefined;
}

/** One attempt's context: passed through the node's layers to `startAttempt`, no closure per call. */
interface Attempt<C extends PipelineCall> {
  readonly call: C;
  readonly view: CallView<C>;
  readonly decision: RouteDecision;
}

function startAttempt<C extends PipelineCall>(attempt: Attempt<C>): PromiseLike<unknown> {
  return attempt.view.runOn(attempt.call, attempt.decision);
}

function startTransaction(start: () => PromiseLike<unknown>): PromiseLike<unknown> {
  return start();
}

const NO_NODES: ReadonlySet<DbNode> = new Set();

/**
 * The path of every routed call, one way: gate → deadline → route → the chosen node's layers
 * (bulkhead → breaker → the node's client) → on failure, `decide()` says reroute, primary, retry
 * (async-retry, within the node's retry budget) or fail, and `surfaceFailure()` says what the
 * caller sees. Each failure is classified once, where the attempt failed.
 */
export class CallPipeline {
  readonly #router: Router;
  readonly #guards: ReadonlyMap<DbNode, NodeGuard>;
  readonly #events: SplitEvents;
  readonly #gate: CallGate;
  readonly #retry: RetryPolicy;
  readonly #deadlineMs: number | false;
  readonly #hedge: Hedge | undefined;
  readonly #tracer: AttemptTracer | undefined;
  readonly #readYourWrites: Pick<ReadYourWrites, "afterWrite"> | undefined;

  constructor(parts: PipelineParts) {
    this.#router = parts.router;
    this.#guards = parts.guards;
    this.#events = parts.events;
    this.#gate = parts.gate;
    this.#retry = parts.retry;
    this.#deadlineMs = parts.deadlineMs;
    this.#hedge = parts.router.replicas.length > 1 ? parts.hedge : undefined;
    this.#tracer = parts.tracer;
    this.#readYourWrites = parts.readYourWrites;
  }

  execute<C extends PipelineCall>(call: C, view: CallView<C>): Promise<unknown> {
    if (!this.#gate.open) return this.#gate.whenOpen().then(() => this.execute(call, view));
    const deadline = currentDeadline(this.#deadlineMs);
    if (deadline === undefined) return this.#run(call, view, undefined);
    const shared = call.batchable === true;
    return bounded(
      deadline,
      (ticket) => this.#run(call, view, ticket),
      (ticket) =>
        new DatabaseUnavailableError(
          shared
            ? "prisma-split: the call's deadline expired; its statement, which Prisma may share with other calls, runs on for them"
            : "prisma-split: the call's deadline expired; its statement was cancelled",
          {
            role: call.kind === "write" || view.forced === "primary" ? "primary" : "replica",
            reason: "deadline",
            // A cancel may come too late for a write that reached a connection.
            outcome: call.kind === "write" && ticket?.sent === true ? "unknown" : "not-applied",
          },
        ),
      shared,
    );
  }

  /**
   * A `$transaction` (batch or interactive) on the primary, through its layers; never retried
   * (its statements are the user's) and bounded by Prisma's own transaction options only.
   */
  transaction(start: () => PromiseLike<unknown>): Promise<unknown> {
    if (!this.#gate.open) return this.#gate.whenOpen().then(() => this.transaction(start));
    const node = this.#router.primary;
    const guard = this.#guards.get(node) as NodeGuard;
    return guard.execute(startTransaction, start).then(undefined, (thrown: unknown) => {
      const { fault, error } = toAttemptFailure(thrown);
      throw surfaceFailure(fault, error, node, {
        attempts: 1,
        // Statements of a transaction take effect only with its COMMIT: one that failed before it
        // was rolled back (its connection is closed, never reused: nodes/connection-reuse.ts).
        mayHaveApplied: fault.label === UNANSWERED_COMMIT,
        closing: this.#gate.closed,
        retryAfterSeconds: guard.retryAfterSeconds(),
      });
    });
  }

  /**
   * The first attempt runs straight on the node the router picks: nearly every call succeeds
   * there, and the retry machinery is set up only for one that did not.
   */
  #run<C extends PipelineCall>(call: C, view: CallView<C>, ticket: StatementTicket | undefined): Promise<unknown> {
    let decision: RouteDecision;
    try {
      decision = this.#route(call.kind, view.forced, NO_NODES);
    } catch (error) {
      return Promise.reject(error);
    }
    const first =
      this.#hedge !== undefined && call.kind === "read" && decision.node.role === "replica"
        ? this.#hedged(this.#hedge, call, view, decision, ticket)
        : this.#attempt(call, view, decision);
    return first.then(undefined, (failure: unknown) =>
      this.#recover(call, view, ticket, decision, toAttemptFailure(failure)),
    );
  }

  /** A first attempt on a replica that another replica may also run (the first answer wins). */
  #hedged<C extends PipelineCall>(
    hedge: Hedge,
    call: C,
    view: CallView<C>,
    decision: RouteDecision,
    ticket: StatementTicket | undefined,
  ): Promise<unknown> {
    // A shared statement's attempts get no branch of the call's ticket: its expiry must not cancel them.
    const shared = call.batchable === true;
    return hedge.race(
      decision,
      (target) => this.#attempt(call, view, target),
      () => this.#router.routeHedge(view.forced, decision.node),
      shared ? undefined : ticket,
      !shared,
    );
  }

  #attempt<C extends PipelineCall>(call: C, view: CallView<C>, decision: RouteDecision): Promise<unknown> {
    const guard = this.#guards.get(decision.node) as NodeGuard;
    const attempt = { call, view, decision } as Attempt<C>;
    // No SDK registered (the API alone arrives with prom-client): no span, no closure.
    if (this.#tracer === undefined || !this.#tracer.live) return guard.execute(startAttempt, attempt);
    // The span covers the node's layers, so a refusal is traced too and a failure arrives classified.
    return this.#tracer.run(call, decision, () => guard.execute(startAttempt, attempt)) as Promise<unknown>;
  }

  /** After a failed first attempt: reroutes, the misroute to the primary, retries; or the caller's error. */
  #recover<C extends PipelineCall>(
    call: C,
    view: CallView<C>,
    ticket: StatementTicket | undefined,
    firstDecision: RouteDecision,
    firstFailure: AttemptFailure,
  ): Promise<unknown> {
    let kind = call.kind;
    let decision = firstDecision;
    let failure: AttemptFailure | undefined = firstFailure;
    let misrouted = false;
    let mayHaveApplied = false;
    const failed = new Set<DbNode>();
    let surfaced: unknown;
    return this.#retry.execute(async (bail, attemptNumber) => {
      if (attemptNumber > 1) {
        const next = this.#tryRoute(kind, view.forced, failed);
        if (next === undefined) {
          // No node left to try (fallback off): the failure that emptied the list is the answer.
          bail(surfaced);
          return undefined;
        }
        decision = next;
      }
      const refused = new Set<DbNode>(failed);
      for (;;) {
        if (failure === undefined) {
          try {
            const attempt = this.#attempt(call, view, decision);
            return await (misrouted && this.#readYourWrites !== undefined
              ? this.#readYourWrites.afterWrite(attempt)
              : attempt);
          } catch (thrown) {
            failure = toAttemptFailure(thrown);
          }
        }
        const { fault, error } = failure;
        failure = undefined;
        const node = decision.node;
        mayHaveApplied ||= attemptMayHaveApplied(fault, kind);
        const action = decide(fault, {
          kind,
          role: node.role,
          forced: view.forced !== undefined,
          attempt: attemptNumber,
          maxAttempts: this.#retry.maxAttempts,
        });
        if (action === "reroute") {
          refused.add(node);
          const next = this.#tryRoute(kind, view.forced, refused);
          if (next !== undefined && !refused.has(next.node)) {
            decision = next;
            continue;
          }
          // Nothing left that would take it. A refusal settles without I/O: a caller retrying at
          // once in a loop would run on microtasks alone and starve the process's timers and sockets.
          await new Promise((resolve) => setImmediate(resolve));
        } else if (action === "primary" && !misrouted) {
          // A write the SQL check could not see (a function that inserts): once on the primary.
          misrouted = true;
          kind = "write";
          decision = this.#router.route("write", undefined);
          continue;
        }
        surfaced = surfaceFailure(fault, error, node, {
          attempts: attemptNumber,
          mayHaveApplied,
          closing: this.#gate.closed,
          retryAfterSeconds: this.#guards.get(node)?.retryAfterSeconds() ?? 1,
        });
        if (action === "retry" && this.#mayRetry(node, ticket)) {
          failed.add(node);
          if (this.#events.has("retry")) {
            const delayMs = this.#retry.nominalWaitMs(attemptNumber);
            this.#events.emit("retry", { role: node.role, node: node.name, attempt: attemptNumber, delayMs, error });
          }
          throw new RetryLater();
        }
        bail(surfaced);
        return undefined;
      }
    });
  }

  #mayRetry(node: DbNode, ticket: StatementTicket | undefined): boolean {
    if (this.#gate.closed) return false;
    if (ticket?.expired) return false;
    return this.#guards.get(node)?.tryRetry() ?? true;
  }

  /** The next node, away from `failed`; undefined when none is left (replicas only, fallback off). */
  #tryRoute(kind: QueryKind, forced: NodeRole | undefined, failed: ReadonlySet<DbNode>): RouteDecision | undefined {
    try {
      return this.#route(kind, forced, failed);
    } catch {
      return undefined;
    }
  }

  #route(kind: QueryKind, forced: NodeRole | undefined, failed: ReadonlySet<DbNode>): RouteDecision {
    const decision = this.#router.route(kind, forced, failed.size === 0 ? undefined : failed);
    if (decision.reason === "fallback" && this.#events.has("fallback")) {
      this.#events.emit("fallback", { reason: this.#router.whyNoReplica(failed) });
    }
    return decision;
  }
}

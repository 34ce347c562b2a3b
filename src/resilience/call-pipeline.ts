import { DatabaseUnavailableError, type NodeRole } from "../errors.js";
import type { SplitEvents } from "../events.js";
import type { DbNode, NodeTask } from "../nodes/db-node.js";
import type { StatementTicket } from "../pool/statement-ticket.js";
import type { ReadYourWrites } from "../routing/consistency/read-your-writes.js";
import type { ReplicaReadOptions } from "../routing/replica-read-options.js";
import type { Placement, QueryKind, RouteDecision, Router } from "../routing/router.js";
import { type AttemptFailure, toAttemptFailure } from "./attempt-failure.js";
import type { AttemptTracer } from "./attempt-tracer.js";
import { bounded, currentDeadline } from "./deadline.js";
import { type AfterFailure, decide } from "./decide.js";
import type { Hedge } from "./hedge.js";
import type { NodeGuard } from "./node-guard.js";
import type { Retries } from "./retries.js";
import { attemptMayHaveApplied, surfaceFailure } from "./surface-failure.js";

/**
 * One call as the pipeline sees it: what it does, where its caller tagged it, and how one attempt
 * of it starts on a node. The pipeline calls nothing else of the client that made it.
 */
export interface PipelineCall extends NodeTask {
  readonly kind: QueryKind;
  /** The role a `$primary()` / `$replica()` client tags its calls with. */
  readonly forced: NodeRole | undefined;
  /** What a `$replica(options)` client asked of the replica its reads run on (`maxLagMs`). */
  readonly bound?: ReplicaReadOptions | undefined;
  /**
   * Prisma may run it in one statement with other calls of the same tick (`findUnique`): its
   * statement is not this call's alone to cancel when a hedge of it loses or its deadline expires.
   */
  readonly batchable: boolean;
  /** `findMany`, `$queryRaw`, `$transaction`, ... (events, spans, errors). */
  readonly operation: string;
  /** The model's delegate key (`user`); undefined for a client method. */
  readonly model: string | undefined;
  /** Set on a call re-run elsewhere: where it must run, instead of where its kind and tag say. */
  readonly placement?: Placement | undefined;
  /** prisma-split's own query (the read-your-writes position): the app did not make it, so no `query` event. */
  readonly internal?: boolean;
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
  readonly retries: Retries;
  /** Bound of every call, attempts and waits included (`queryTimeoutMs`); `$withDeadline` may tighten it. */
  readonly deadlineMs: number | false;
  /** Hedged reads (`replicas.hedge`); undefined when off (or with fewer than two replicas). */
  readonly hedge?: Hedge | undefined;
  /** OpenTelemetry spans per attempt; undefined when off or not installed. */
  readonly tracer?: AttemptTracer | undefined;
  /** Records a call that wrote in its consistency context (read-your-writes). */
  readonly readYourWrites: Pick<ReadYourWrites, "afterWrite">;
}

/** How an attempt ended: its value, or its failure and what follows it (`decide()`). */
type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly failure: AttemptFailure; readonly node: DbNode; readonly action: AfterFailure };

type Failed = Outcome & { readonly ok: false };

/** What the attempts of one failing call have found so far (recorded by `#judge`). */
class FailedCall {
  /** Nodes that failed or refused the call: later attempts go elsewhere while anything else may serve it. */
  readonly tried = new Set<DbNode>();
  /** A write of the call may have reached a server unanswered. */
  mayHaveApplied = false;
  /** Attempts made (async-retry's count; moving on past a refusal is not one). */
  attempts = 1;
  /** The latest failure: the caller's answer when nothing is left to try. */
  last!: Failed;
}

/**
 * The path of every routed call, one way, top-down in this file: gate → deadline → where the call
 * may run (`Router.place`, once) → the first attempt on the node the router picks (or a hedged
 * pair) through that node's guard (bulkhead → breaker → the node's client) → on failure, the
 * attempt loop: `decide()` says move on, re-run on the primary, retry (async-retry, within the
 * node's retry budget, never on the node that just failed while another may serve) or fail, and
 * `surfaceFailure()` says what the caller sees. Each failure is classified once, where it
 * happened (NodeGuard). A call that wrote is recorded for read-your-writes as it settles.
 */
export class CallPipeline {
  readonly #router: Router;
  readonly #guards: ReadonlyMap<DbNode, NodeGuard>;
  readonly #events: SplitEvents;
  readonly #gate: CallGate;
  readonly #retries: Retries;
  readonly #deadlineMs: number | false;
  readonly #hedge: Hedge | undefined;
  readonly #tracer: AttemptTracer | undefined;
  readonly #readYourWrites: Pick<ReadYourWrites, "afterWrite">;

  constructor(parts: PipelineParts) {
    this.#router = parts.router;
    this.#guards = parts.guards;
    this.#events = parts.events;
    this.#gate = parts.gate;
    this.#retries = parts.retries;
    this.#deadlineMs = parts.deadlineMs;
    this.#hedge = parts.hedge;
    this.#tracer = parts.tracer;
    this.#readYourWrites = parts.readYourWrites;
  }

  /**
   * Runs a call to its end. A `$transaction` is bounded by Prisma's own `timeout`/`maxWait`, every
   * other call by its deadline (`$withDeadline`, `queryTimeoutMs`), if any.
   */
  execute(call: PipelineCall): Promise<unknown> {
    if (!this.#gate.open) return this.#gate.whenOpen().then(() => this.execute(call));
    const deadline = call.kind === "transaction" ? undefined : currentDeadline(this.#deadlineMs);
    if (deadline === undefined) return this.#run(call, undefined);
    return bounded(
      deadline,
      (ticket) => this.#run(call, ticket),
      (ticket) => deadlineError(call, ticket),
      call.batchable,
    );
  }

  /**
   * The first attempt runs straight on the node the router picks: nearly every call succeeds
   * there, and the attempt loop is set up only for one that did not.
   */
  #run(call: PipelineCall, ticket: StatementTicket | undefined): Promise<unknown> {
    let placement: Placement;
    let decision: RouteDecision;
    try {
      placement = call.placement ?? this.#router.place(call.kind, call.forced, describe(call), call.bound);
      decision = this.#route(placement, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    const first =
      this.#hedge !== undefined && call.kind === "read" && this.#router.mayHedge(placement)
        ? this.#hedged(this.#hedge, call, placement, decision, ticket)
        : this.#attempt(call, decision);
    const settled = first.then(undefined, (failure: unknown) =>
      this.#recover(call, placement, ticket, decision.node, toAttemptFailure(failure)),
    );
    return call.kind === "read" ? settled : this.#readYourWrites.afterWrite(settled);
  }

  /** A first attempt on a replica that another replica may also run (the first answer wins). */
  #hedged(
    hedge: Hedge,
    call: PipelineCall,
    placement: Placement,
    decision: RouteDecision,
    ticket: StatementTicket | undefined,
  ): Promise<unknown> {
    // A shared statement's attempts get no branch of the call's ticket: its expiry must not cancel them.
    return hedge.race(
      decision,
      (target) => this.#attempt(call, target),
      () => this.#router.routeHedge(placement, decision.node),
      call.batchable ? undefined : ticket,
      !call.batchable,
    );
  }

  /** One attempt on the node `decision` names, through its guard; reported as a `query` event when it reached the node. */
  #attempt(call: PipelineCall, decision: RouteDecision): Promise<unknown> {
    const guard = this.#guards.get(decision.node) as NodeGuard;
    const tracer = this.#tracer;
    // No SDK registered (the API alone arrives with prom-client): no span, no closure.
    const running =
      tracer === undefined || !tracer.live
        ? guard.run(call)
        : (tracer.run(call, decision, () => guard.run(call)) as Promise<unknown>);
    if (call.internal === true || !this.#events.has("query")) return running;
    const started = performance.now();
    running.then(
      () => this.#reportQuery(call, decision, started, undefined),
      (failure: unknown) => {
        const { fault, error } = toAttemptFailure(failure);
        // Refused before it reached the node (open breaker, shed): not a query of the node's.
        if (fault.kind !== "refusal") this.#reportQuery(call, decision, started, error);
      },
    );
    return running;
  }

  /** After a failed first attempt: the attempt loop, or the caller's error. */
  async #recover(
    call: PipelineCall,
    placement: Placement,
    ticket: StatementTicket | undefined,
    node: DbNode,
    failure: AttemptFailure,
  ): Promise<unknown> {
    const state = new FailedCall();
    const judged = this.#judge(call, state, node, failure, 1);
    const first = judged.action === "move-on" ? await this.#onNextNode(call, placement, state, 1) : judged;
    if (first.ok) return first.value;
    if (!(first.action === "retry" && this.#mayRetry(first.node, ticket))) return this.#finish(call, state, first);
    return this.#retries.run(
      async (bail, attemptNumber) => {
        // Attempt 1's failure is known and retryable: async-retry backs off, then runs attempt 2.
        if (attemptNumber === 1) throw first.failure;
        state.attempts = attemptNumber;
        const outcome = await this.#onNextNode(call, placement, state, attemptNumber);
        if (outcome.ok) return outcome.value;
        if (outcome.action === "retry" && this.#mayRetry(outcome.node, ticket)) throw outcome.failure;
        try {
          return await this.#finish(call, state, outcome);
        } catch (error) {
          bail(error);
          return undefined;
        }
      },
      (_error, attemptNumber) => this.#reportRetry(state.last, attemptNumber),
    );
  }

  /**
   * One attempt on the next node that may serve the call, away from those that failed it; refused
   * there (or the node taken out meanwhile), at once on the one after. Ends with a value, a failure
   * to retry or give up on, or, when no node is left, the failure that emptied the list.
   */
  async #onNextNode(call: PipelineCall, placement: Placement, state: FailedCall, attempt: number): Promise<Outcome> {
    for (;;) {
      const decision = this.#routeAway(placement, state);
      if (decision === undefined) {
        // Nothing left that would take it. A refusal settles without I/O: a caller retrying at once
        // in a loop would run on microtasks alone and starve the process's timers and sockets.
        if (state.last.action === "move-on") await new Promise((resolve) => setImmediate(resolve));
        return { ...state.last, action: "fail" };
      }
      try {
        return { ok: true, value: await this.#attempt(call, decision) };
      } catch (thrown) {
        const outcome = this.#judge(call, state, decision.node, toAttemptFailure(thrown), attempt);
        if (outcome.action !== "move-on") return outcome;
      }
    }
  }

  /** A failed attempt, recorded in `state`, with what follows it. */
  #judge(call: PipelineCall, state: FailedCall, node: DbNode, failure: AttemptFailure, attempt: number): Failed {
    const action = decide(failure.fault, {
      kind: call.kind,
      role: node.role,
      forced: call.forced !== undefined,
      attempt,
      maxAttempts: this.#retries.maxAttempts,
      nodeOut: node.role === "replica" ? !node.servesReads : this.#guards.get(node)?.breakerState === "open",
    });
    state.tried.add(node);
    state.mayHaveApplied ||= attemptMayHaveApplied(failure.fault, call.kind);
    state.last = { ok: false, failure, node, action };
    return state.last;
  }

  /**
   * Where the next attempt of a call goes: a node that has not failed it yet. When every node that
   * may serve it has, a retry goes where the router sends it away from the node that failed last
   * (there, only when nothing else may serve the call: a write's primary, a primary-only setup);
   * moving on past a refusal then finds nothing left.
   */
  #routeAway(placement: Placement, state: FailedCall): RouteDecision | undefined {
    try {
      const untried = this.#route(placement, state.tried);
      if (!state.tried.has(untried.node)) return untried;
      return state.last.action === "move-on" ? undefined : this.#route(placement, new Set([state.last.node]));
    } catch {
      // No replica left and fallback to the primary off.
      return undefined;
    }
  }

  /** The call's end after its last attempt: a re-run on the primary, or the caller's error. */
  #finish(call: PipelineCall, state: FailedCall, outcome: Failed): Promise<unknown> {
    if (outcome.action === "primary") return this.#rerunOnPrimary(call, outcome);
    const { fault, error } = outcome.failure;
    return Promise.reject(
      surfaceFailure(fault, error, outcome.node, {
        attempts: state.attempts,
        mayHaveApplied: state.mayHaveApplied,
        closing: this.#gate.closed,
        retryAfterSeconds: this.#guards.get(outcome.node)?.retryAfterSeconds() ?? 1,
      }),
    );
  }

  /**
   * Runs the call once on the primary, as a call of its own: a read that wrote (25006) as a write
   * (so it is recorded for read-your-writes, and never sent twice), a read a replica could not
   * answer (55000, a recovery conflict, a relation it has not replayed) as a read.
   */
  #rerunOnPrimary(call: PipelineCall, outcome: Failed): Promise<unknown> {
    const { node, failure } = outcome;
    if (this.#events.has("rerun")) {
      this.#events.emit("rerun", {
        role: node.role,
        node: node.name,
        fault: failure.fault.label,
        error: failure.error,
      });
    }
    const wrote = failure.fault.kind === "read-only" && /25006/.test(failure.fault.label);
    return this.#run(
      new RerunCall(call, wrote ? "write" : "read", wrote ? undefined : this.#router.rerunOnPrimary),
      undefined,
    );
  }

  #mayRetry(node: DbNode, ticket: StatementTicket | undefined): boolean {
    if (this.#gate.closed) return false;
    if (ticket?.expired) return false;
    return this.#guards.get(node)?.tryRetry() ?? true;
  }

  /** Routes an attempt, and says so when a read falls back to the primary. */
  #route(placement: Placement, exclude: ReadonlySet<DbNode> | undefined): RouteDecision {
    const decision = this.#router.route(placement, exclude === undefined || exclude.size === 0 ? undefined : exclude);
    if (decision.reason === "fallback" && this.#events.has("fallback")) {
      this.#events.emit("fallback", { reason: this.#router.whyNoReplica(exclude) });
    }
    return decision;
  }

  #reportQuery(call: PipelineCall, decision: RouteDecision, started: number, error: unknown): void {
    this.#events.emit("query", {
      role: decision.node.role,
      node: decision.node.name,
      operation: call.operation,
      model: call.model,
      reason: decision.reason,
      zone: decision.zone,
      durationMs: performance.now() - started,
      error,
    });
  }

  #reportRetry(outcome: Failed, attempt: number): void {
    if (!this.#events.has("retry")) return;
    const { node, failure } = outcome;
    this.#events.emit("retry", { role: node.role, node: node.name, attempt, error: failure.error });
  }
}

/** A call run again elsewhere: the same statement, another kind or placement. */
class RerunCall implements PipelineCall {
  readonly #call: PipelineCall;
  readonly kind: QueryKind;
  readonly placement: Placement | undefined;

  constructor(call: PipelineCall, kind: QueryKind, placement: Placement | undefined) {
    this.#call = call;
    this.kind = kind;
    this.placement = placement;
  }

  get forced(): undefined {
    return undefined;
  }

  get batchable(): boolean {
    return this.#call.batchable;
  }

  get operation(): string {
    return this.#call.operation;
  }

  get model(): string | undefined {
    return this.#call.model;
  }

  startOn(node: DbNode): PromiseLike<unknown> {
    return this.#call.startOn(node);
  }
}

function describe(call: PipelineCall): string {
  return call.model === undefined ? call.operation : `${call.model}.${call.operation}()`;
}

function deadlineError(call: PipelineCall, ticket: StatementTicket | undefined): DatabaseUnavailableError {
  return new DatabaseUnavailableError(
    call.batchable
      ? "prisma-split: the call's deadline expired; its statement, which Prisma may share with other calls, runs on for them"
      : "prisma-split: the call's deadline expired; its statement was cancelled",
    {
      role: call.kind === "write" || call.forced === "primary" ? "primary" : "replica",
      reason: "deadline",
      // A cancel may come too late for a write that reached a connection.
      outcome: call.kind === "write" && ticket?.sent === true ? "unknown" : "not-applied",
    },
  );
}

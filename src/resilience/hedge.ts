import type { HedgeSettings } from "../config/resolve-config.js";
import type { SplitEvents } from "../events.js";
import { StatementTicket, statementTickets } from "../pool/statement-ticket.js";
import type { RouteDecision } from "../routing/router.js";
import { HedgeBudget } from "./hedge-budget.js";
import { LatencyWindow } from "./latency-window.js";

export type { HedgeSettings } from "../config/resolve-config.js";

/** ms the losing attempt may still run before its statement is cancelled on its server. */
export const LOSER_GRACE_MS = 50;

/** Runs one attempt of the call on the node `decision` names (through that node's layers). */
export type StartAttempt = (decision: RouteDecision) => Promise<unknown>;

/**
 * Hedged reads ("the tail at scale"): a read its replica has not answered after the delay
 * (`afterMs`, or the p95 of recent hedgeable reads) is also sent to another replica, if the
 * budget allows; the first answer wins, and the statement of the other attempt, if it is still
 * running `LOSER_GRACE_MS` later, is cancelled on its server (or never sent, if it still waits for
 * a connection) through its StatementTicket.
 * When one attempt fails the other may still answer; when both fail the caller's failure handling
 * sees the first attempt's failure, as without hedging.
 *
 * The caller decides what may be hedged (reads on a replica) and where a hedge may go
 * (`next`: another replica, none inside a read-your-writes pin).
 */
export class Hedge {
  readonly #afterMs: number | undefined;
  readonly #recent: LatencyWindow | undefined;
  readonly #budget: HedgeBudget;
  readonly #events: SplitEvents;

  constructor(settings: HedgeSettings, events: SplitEvents) {
    this.#afterMs = settings.afterMs === "p95" ? undefined : settings.afterMs;
    this.#recent = settings.afterMs === "p95" ? new LatencyWindow(0.95) : undefined;
    this.#budget = new HedgeBudget(settings.maxExtraRatio);
    this.#events = events;
  }

  /** The delay before a read is hedged now; undefined while `"p95"` has too few samples. */
  get delayMs(): number | undefined {
    if (this.#afterMs !== undefined) return this.#afterMs;
    const p95 = this.#recent?.quantile();
    return p95 === undefined ? undefined : Math.max(1, p95);
  }

  /**
   * Runs `first` and, if it has not answered within the delay, the same call on `next()`; the
   * first answer settles the result. `outer`: the call's own ticket (`$withDeadline`), whose
   * expiry cancels both attempts. `cancelLoser` false: the losing statement may be shared with
   * other calls (Prisma batches `findUnique`s of one tick into one statement), so it runs to its
   * end and its result is dropped.
   */
  race(
    first: RouteDecision,
    start: StartAttempt,
    next: () => RouteDecision | undefined,
    outer: StatementTicket | undefined,
    cancelLoser = true,
  ): Promise<unknown> {
    this.#budget.recordRead();
    const delayMs = this.delayMs;
    const startedAt = performance.now();
    const firstTicket = outer?.branch() ?? new StatementTicket();
    const firstAttempt = statementTickets.run(firstTicket, () => start(first));
    if (delayMs === undefined) return this.#timed(firstAttempt, startedAt);
    return new Promise((resolve, reject) => {
      let settled = false;
      let running = 1;
      let firstFailure: { error: unknown } | undefined;
      let secondTicket: StatementTicket | undefined;
      let cancelTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        if (settled) return;
        const second = next();
        if (second === undefined || second.node === first.node || !this.#budget.tryHedge()) return;
        if (this.#events.has("hedge")) {
          this.#events.emit("hedge", {
            role: first.node.role,
            node: first.node.name,
            hedgeNode: second.node.name,
            afterMs: delayMs,
          });
        }
        const ticket = outer?.branch() ?? new StatementTicket();
        secondTicket = ticket;
        running++;
        statementTickets
          .run(ticket, () => start(second))
          .then(
            (value) => win(value, firstTicket),
            (error: unknown) => lose(error, false),
          );
      }, delayMs);
      /** One attempt settled; once both have, a cancel still waiting is moot. */
      const ended = () => {
        running--;
        if (settled && running === 0) clearTimeout(cancelTimer);
      };
      const win = (value: unknown, loser: StatementTicket | undefined) => {
        ended();
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (cancelLoser && loser !== undefined && running > 0) {
          // A cancel request costs a connection (and a process on the server): a loser that ends
          // within the grace costs nothing more; one that runs on is cancelled.
          cancelTimer = setTimeout(() => loser.expire(), LOSER_GRACE_MS);
          cancelTimer.unref();
        }
        this.#recent?.record(performance.now() - startedAt);
        resolve(value);
      };
      const lose = (error: unknown, isFirst: boolean) => {
        ended();
        if (isFirst) firstFailure = { error };
        if (settled || running > 0) return;
        settled = true;
        clearTimeout(timer);
        reject(firstFailure === undefined ? error : firstFailure.error);
      };
      firstAttempt.then(
        (value) => win(value, secondTicket),
        (error: unknown) => lose(error, true),
      );
    });
  }

  #timed(attempt: Promise<unknown>, startedAt: number): Promise<unknown> {
    const recent = this.#recent;
    if (recent === undefined) return attempt;
    return attempt.then((value) => {
      recent.record(performance.now() - startedAt);
      return value;
    });
  }
}

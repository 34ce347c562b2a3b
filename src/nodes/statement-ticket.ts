import { AsyncLocalStorage } from "node:async_hooks";
import type { BusyConnection } from "./busy-connections.js";
import { type CancelOutcome, sendCancelRequest } from "./cancel-request.js";

/** How long a cancel request may take to be delivered. */
const CANCEL_TIMEOUT_MS = 1_000;

/**
 * The connection a bounded call's statement runs on, so that the statement can be cancelled on
 * the server when the call's deadline expires. The node's pool (create-pool.ts) fills it in when
 * it hands the statement to a connection and clears it when the statement is done; a statement
 * that reaches a connection after expiry is not sent at all.
 */
export class StatementTicket {
  #connection: BusyConnection | undefined;
  #expired = false;
  #branches: StatementTicket[] | undefined;
  #cancelling: Promise<CancelOutcome> | undefined;
  #sent = false;

  get expired(): boolean {
    return this.#expired;
  }

  /** A statement of this ticket was handed to a connection: it may have reached the server. */
  get sent(): boolean {
    return this.#sent || (this.#branches?.some((branch) => branch.sent) ?? false);
  }

  /** The pool runs the ticket's statement on `connection` now. */
  running(connection: BusyConnection): void {
    this.#connection = connection;
    this.#sent = true;
  }

  /**
   * The cancel request sent for this ticket's statement, until the server has read it. The pool
   * hands the connection back only after that: a cancel that arrived after the connection's next
   * statement started would cancel that one instead (the statement being cancelled may already
   * have ended on the server while its result was on the way). An `unconfirmed` cancel may still
   * arrive: that connection is not reused.
   */
  get cancelling(): Promise<CancelOutcome> | undefined {
    return this.#cancelling;
  }

  /** The statement on `connection` is done. */
  done(connection: BusyConnection): void {
    if (this.#connection === connection) this.#connection = undefined;
  }

  /** The call gave up: cancel what runs on the server now (as psql's Ctrl-C), send nothing later. */
  expire(): void {
    this.#expired = true;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection !== undefined) this.#cancelling = sendCancelRequest(connection, CANCEL_TIMEOUT_MS);
    for (const branch of this.#branches ?? []) branch.expire();
  }

  /**
   * The ticket of one of several statements this call runs side by side (a hedged read's): it can
   * be expired alone (the attempt that lost), and expires with this one.
   */
  branch(): StatementTicket {
    const branch = new StatementTicket();
    if (this.#expired) {
      branch.expire();
    } else {
      this.#branches ??= [];
      this.#branches.push(branch);
    }
    return branch;
  }
}

/** The ticket of the call whose statement is being handed to a pool now (unset: an unbounded call, or one whose statement Prisma may share with other calls). */
export const statementTickets = new AsyncLocalStorage<StatementTicket | undefined>();

import { DatabaseUnavailableError, type NodeRole } from "../errors.js";
import type { DbNode } from "../nodes/db-node.js";
import { routingScope } from "./scope.js";
import type { ReplicaSelector } from "./selectors/index.js";

export type QueryKind = "read" | "write";

/** Why a query went where it went (metrics and events carry it). */
export type RouteReason =
  | "read" // a read on a replica
  | "write" // a write on the primary
  | "transaction" // a $transaction, always on the primary
  | "forced" // $primary() / $replica() / $withPrimary()
  | "fallback" // a read on the primary because no replica could take it
  | "no-replicas"; // a read on the primary of a primary-only setup

/** Where one query runs, and why. */
export interface RouteDecision {
  readonly node: DbNode;
  readonly reason: RouteReason;
}

/**
 * Decides which node runs a query: writes on the primary, reads on a replica the selector picks,
 * unless a tag (`$primary()`, `$replica()`) or a scope (`$withPrimary`) says otherwise.
 */
export class Router {
  readonly primary: DbNode;
  readonly replicas: readonly DbNode[];
  readonly #select: ReplicaSelector;
  readonly #fallbackToPrimary: boolean;
  /** Decisions that name the primary never change: made once, not per query. */
  readonly #onPrimary: Readonly<Record<"write" | "transaction" | "forced" | "fallback" | "no-replicas", RouteDecision>>;
  /** Every replica, frozen: what a selector gets while all of them serve reads. */
  readonly #allReplicas: readonly DbNode[];
  /** Per replica (by index), its decisions by reason. */
  readonly #onReplica: Array<Partial<Record<RouteReason, RouteDecision>>> = [];

  constructor(primary: DbNode, replicas: readonly DbNode[], select: ReplicaSelector, fallbackToPrimary: boolean) {
    this.primary = primary;
    this.replicas = replicas;
    this.#select = select;
    this.#fallbackToPrimary = fallbackToPrimary;
    this.#allReplicas = Object.freeze([...replicas]);
    const onPrimary = (reason: RouteReason): RouteDecision => Object.freeze({ node: primary, reason });
    this.#onPrimary = {
      write: onPrimary("write"),
      transaction: onPrimary("transaction"),
      forced: onPrimary("forced"),
      fallback: onPrimary("fallback"),
      "no-replicas": onPrimary("no-replicas"),
    };
  }

  /** Where a `$transaction` runs: always the primary. */
  get inTransaction(): RouteDecision {
    return this.#onPrimary.transaction;
  }

  /** Where one query runs; `forced` is the role a `$primary()`/`$replica()` client is bound to. */
  route(kind: QueryKind, forced: NodeRole | undefined): RouteDecision {
    if (kind === "write") return this.#onPrimary.write;
    if (forced === "primary" || (forced === undefined && routingScope.getStore()?.primary === true)) {
      return this.#onPrimary.forced;
    }
    return this.routeRead(forced === "replica" ? "forced" : "read");
  }

  /** A replica for a read; the primary when there is none to take it and fallback is on. */
  routeRead(reason: RouteReason): RouteDecision {
    if (this.replicas.length === 0) return this.#onPrimary["no-replicas"];
    const candidates = this.#candidates();
    if (candidates.length === 0) {
      if (this.#fallbackToPrimary) return this.#onPrimary.fallback;
      throw new DatabaseUnavailableError("No replica can serve this read and replicas.fallbackToPrimary is off", {
        role: "replica",
        reason: "unreachable",
      });
    }
    if (candidates.length === 1) return this.#decision(candidates[0] as DbNode, reason);
    const chosen = this.#select(candidates) as DbNode;
    return this.#decision(candidates.includes(chosen) ? chosen : (candidates[0] as DbNode), reason);
  }

  /** The replicas that serve reads; while all do (the usual case), one frozen list instead of a copy per read. */
  #candidates(): readonly DbNode[] {
    for (const replica of this.replicas) {
      if (!replica.servesReads) return this.replicas.filter((candidate) => candidate.servesReads);
    }
    return this.#allReplicas;
  }

  /** Decisions are immutable: one per replica and reason, made on first use instead of one per query. */
  #decision(node: DbNode, reason: RouteReason): RouteDecision {
    let byReason = this.#onReplica[node.index];
    if (byReason === undefined) {
      byReason = {};
      this.#onReplica[node.index] = byReason;
    }
    let decision = byReason[reason];
    if (decision === undefined) {
      decision = Object.freeze({ node, reason });
      byReason[reason] = decision;
    }
    return decision;
  }

  /** Every node, primary first. */
  get nodes(): readonly DbNode[] {
    return [this.primary, ...this.replicas];
  }
}

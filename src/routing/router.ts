import { DatabaseUnavailableError, type NodeRole } from "../errors.js";
import type { DbNode } from "../nodes/db-node.js";
import { routingScope } from "./scope.js";
import type { ReplicaSelector } from "./selectors/index.js";

export type QueryKind = "read" | "write";

/**
 * Decides which node runs a query: writes on the primary, reads on a replica the selector picks,
 * unless a tag (`$primary()`, `$replica()`) or a scope (`$withPrimary`) says otherwise.
 */
export class Router {
  readonly primary: DbNode;
  readonly replicas: readonly DbNode[];
  readonly #select: ReplicaSelector;
  readonly #fallbackToPrimary: boolean;

  constructor(primary: DbNode, replicas: readonly DbNode[], select: ReplicaSelector, fallbackToPrimary: boolean) {
    this.primary = primary;
    this.replicas = replicas;
    this.#select = select;
    this.#fallbackToPrimary = fallbackToPrimary;
  }

  /** The node for one query; `forced` is the role a `$primary()`/`$replica()` client is bound to. */
  nodeFor(kind: QueryKind, forced: NodeRole | undefined): DbNode {
    if (kind === "write") return this.primary;
    if (forced === "primary" || (forced === undefined && routingScope.getStore()?.primary === true)) {
      return this.primary;
    }
    return this.replicaForRead();
  }

  /** A replica for a read; the primary when there is none to take it and fallback is on. */
  replicaForRead(): DbNode {
    const candidates = this.replicas;
    if (candidates.length === 0) {
      if (this.#fallbackToPrimary || this.replicas.length === 0) return this.primary;
      throw new DatabaseUnavailableError("No replica can serve this read and replicas.fallbackToPrimary is off", {
        role: "replica",
        reason: "unreachable",
      });
    }
    if (candidates.length === 1) return candidates[0] as DbNode;
    const chosen = this.#select(candidates) as DbNode;
    return candidates.includes(chosen) ? chosen : (candidates[0] as DbNode);
  }

  /** Every node, primary first. */
  get nodes(): readonly DbNode[] {
    return [this.primary, ...this.replicas];
  }
}

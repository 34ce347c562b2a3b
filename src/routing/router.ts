import { DatabaseUnavailableError, type NodeRole, ReplicaWriteError } from "../errors.js";
import type { RouteReason } from "../events.js";
import type { DbNode } from "../nodes/db-node.js";
import { type Lsn, lsnReached } from "../nodes/lsn.js";
import type { ReadGate } from "./consistency/types.js";
import { withinLag } from "./lag-bound.js";
import type { ReplicaReadOptions } from "./replica-read-options.js";
import { type RoutingScope, routingScope } from "./scope.js";
import type { ReplicaSelector } from "./selectors/index.js";
import { type ZoneLocality, ZonePreference } from "./zone-preference.js";

export type { RouteReason } from "../events.js";

const PRIMARY_REASONS = [
  "write",
  "transaction",
  "forced",
  "fallback",
  "no-replicas",
  "sticky",
  "lsn",
  "rerun",
  "reads-primary",
  "max-lag",
] as const;
type PrimaryReason = (typeof PRIMARY_REASONS)[number];

/** What a call does: reads, writes (raw SQL that may write included), or a whole `$transaction`. */
export type QueryKind = "read" | "write" | "transaction";

/** What the Router asks of read-your-writes (`ReadYourWrites`). */
export interface ReadConsistency {
  readGate(scope: RoutingScope | undefined): ReadGate;
}

/** Where one query runs, and why. */
export interface RouteDecision {
  readonly node: DbNode;
  readonly reason: RouteReason;
  /** With `replicas.preferZone`, a replica's place: in that zone or not; undefined on the primary. */
  readonly zone?: ZoneLocality | undefined;
}

/** The routing settings beside the selector: `reads` and `replicas.preferZone`. */
export interface RoutingControls {
  /** `reads: "primary"`: a read goes to a replica only on `$replica()` or inside `$withReplica`. */
  readonly readsOnPrimary?: boolean;
  /** `replicas.preferZone`. */
  readonly preferZone?: string | undefined;
}

/**
 * Where a call may run, decided once per call, in its own async context, from its kind, its tag
 * (`$primary()`, `$replica()`), its scope (`$withPrimary`) and its consistency context: the
 * primary whatever happens, or a replica (that has replayed `replayed`, when set). Every attempt
 * and hedge of the call is routed from it.
 */
export type Placement =
  | { readonly on: "primary"; readonly decision: RouteDecision }
  | {
      readonly on: "replica";
      readonly reason: "read" | "forced";
      readonly replayed: Lsn | undefined;
      /** The call's own staleness bound (`$replica({ maxLagMs })`, `$withReplica`). */
      readonly maxLagMs?: number | undefined;
    };

type ReplicaPlacement = Placement & { readonly on: "replica" };

const ANY_REPLICA: ReplicaPlacement = Object.freeze({ on: "replica", reason: "read", replayed: undefined });
const FORCED_REPLICA: ReplicaPlacement = Object.freeze({ on: "replica", reason: "forced", replayed: undefined });

/**
 * Decides which node runs a query: writes on the primary, reads on a replica the selector picks,
 * unless a tag (`$primary()`, `$replica()`) or a scope (`$withPrimary`) says otherwise.
 */
export class Router {
  readonly primary: DbNode;
  readonly replicas: readonly DbNode[];
  readonly #select: ReplicaSelector;
  readonly #fallbackToPrimary: boolean;
  /** Placements and decisions that name the primary never change: made once, not per query. */
  readonly #onPrimary: Readonly<Record<PrimaryReason, Placement & { on: "primary" }>>;
  readonly #consistency: ReadConsistency | undefined;
  /** Every replica, frozen: what a selector gets while all of them serve reads. */
  readonly #allReplicas: readonly DbNode[];
  /** Per replica (by index), its decisions by reason. */
  readonly #onReplica: Array<Partial<Record<RouteReason, RouteDecision>>> = [];
  readonly #readsOnPrimary: boolean;
  readonly #zones: ZonePreference | undefined;

  constructor(
    primary: DbNode,
    replicas: readonly DbNode[],
    select: ReplicaSelector,
    fallbackToPrimary: boolean,
    consistency?: ReadConsistency,
    controls: RoutingControls = {},
  ) {
    this.primary = primary;
    this.replicas = replicas;
    this.#select = select;
    this.#fallbackToPrimary = fallbackToPrimary;
    this.#consistency = consistency;
    this.#allReplicas = Object.freeze([...replicas]);
    this.#readsOnPrimary = controls.readsOnPrimary === true;
    this.#zones =
      controls.preferZone === undefined ? undefined : new ZonePreference(controls.preferZone, this.#allReplicas);
    const onPrimary = (reason: PrimaryReason) =>
      Object.freeze({ on: "primary" as const, decision: Object.freeze({ node: primary, reason }) });
    this.#onPrimary = Object.fromEntries(PRIMARY_REASONS.map((reason) => [reason, onPrimary(reason)])) as Record<
      PrimaryReason,
      Placement & { on: "primary" }
    >;
  }

  /**
   * Where a call of `kind` may run; `forced` is the role a `$primary()`/`$replica()` client is
   * bound to, `bound` what that `$replica(options)` asked. Read in the call's own async context. A
   * write on `$replica()` has nowhere to go: `ReplicaWriteError`, nothing sent.
   */
  place(kind: QueryKind, forced: NodeRole | undefined, operation = "a write", bound?: ReplicaReadOptions): Placement {
    if (kind === "transaction") return this.#onPrimary.transaction;
    if (kind === "write") {
      if (forced === "replica") throw new ReplicaWriteError(operation);
      return this.#onPrimary.write;
    }
    if (forced === "primary") return this.#onPrimary.forced;
    if (forced === "replica") return withBound(FORCED_REPLICA, bound?.maxLagMs);
    const scope = routingScope.getStore();
    if (scope?.primary === true) return this.#onPrimary.forced;
    const inReplicaScope = scope?.replica;
    if (inReplicaScope === undefined && this.#readsOnPrimary) return this.#onPrimary["reads-primary"];
    const gate = this.#consistency?.readGate(scope);
    if (gate === undefined || gate.kind === "any") return withBound(ANY_REPLICA, inReplicaScope?.maxLagMs);
    if (gate.kind === "sticky") return this.#onPrimary.sticky;
    return { on: "replica", reason: "read", replayed: gate.lsn, maxLagMs: inReplicaScope?.maxLagMs };
  }

  /** Where a read re-runs after an error only a replica raises (55000, a recovery conflict, ...). */
  get rerunOnPrimary(): Placement {
    return this.#onPrimary.rerun;
  }

  /** Where a `$transaction` runs: always the primary. */
  get inTransaction(): RouteDecision {
    return this.#onPrimary.transaction.decision;
  }

  /**
   * Where one attempt of a call placed so runs. `exclude`: nodes a later attempt of the call must
   * avoid (they failed or refused it).
   */
  route(placement: Placement, exclude?: ReadonlySet<DbNode>): RouteDecision {
    return placement.on === "primary"
      ? placement.decision
      : this.routeRead(placement.reason, exclude, placement.replayed, placement.maxLagMs);
  }

  /**
   * Whether another replica may run a read placed so beside its first attempt: not when it must
   * stay where its context's writes are visible (a read-your-writes position), nor on the primary.
   */
  mayHedge(placement: Placement): boolean {
    return placement.on === "replica" && placement.replayed === undefined;
  }

  /**
   * A replica for a read; the primary when there is none to take it and fallback is on.
   * `exclude`: replicas a retry of this call must avoid (they just failed it). With `replayed`,
   * only a replica the monitor has seen replay that far will do; when replicas are up but none
   * has, the read goes to the primary (reason `lsn`), fallback or not, as in `$withPrimary`; the
   * same with `maxLagMs` when none is known to be that close (reason `max-lag`). Of those left,
   * the preferred zone's (`replicas.preferZone`) when it has any.
   */
  routeRead(reason: RouteReason, exclude?: ReadonlySet<DbNode>, replayed?: Lsn, maxLagMs?: number): RouteDecision {
    if (this.replicas.length === 0) return this.#onPrimary["no-replicas"].decision;
    let candidates = this.#candidates(exclude);
    if (replayed !== undefined && candidates.length > 0) {
      candidates = candidates.filter((replica) => hasReplayed(replica, replayed));
      if (candidates.length === 0) return this.#onPrimary.lsn.decision;
    }
    if (maxLagMs !== undefined && candidates.length > 0) {
      candidates = withinLag(candidates, maxLagMs);
      if (candidates.length === 0) return this.#onPrimary["max-lag"].decision;
    }
    if (this.#zones !== undefined) candidates = this.#zones.among(candidates);
    if (candidates.length === 0) {
      if (this.#fallbackToPrimary) return this.#onPrimary.fallback.decision;
      throw new DatabaseUnavailableError("No replica can serve this read and replicas.fallbackToPrimary is off", {
        role: "replica",
        reason: "unreachable",
        outcome: "not-applied",
      });
    }
    if (candidates.length === 1) return this.#decision(candidates[0] as DbNode, reason);
    const chosen = this.#select(candidates) as DbNode;
    return this.#decision(candidates.includes(chosen) ? chosen : (candidates[0] as DbNode), reason);
  }

  /**
   * The replicas that serve reads and are not excluded; while all are (the usual case), one frozen
   * list instead of a copy per read.
   */
  #candidates(exclude: ReadonlySet<DbNode> | undefined): readonly DbNode[] {
    for (const replica of this.replicas) {
      if (!replica.servesReads || exclude?.has(replica)) {
        return this.replicas.filter((candidate) => candidate.servesReads && !exclude?.has(candidate));
      }
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
      decision = Object.freeze({ node, reason, zone: this.#zones?.localityOf(node) });
      byReason[reason] = decision;
    }
    return decision;
  }

  /**
   * Where a hedge of a read that went to `first` may also run: another replica that serves reads,
   * as the selector picks; undefined when there is none. Only for a placement `mayHedge()` allows.
   */
  routeHedge(placement: Placement, first: DbNode): RouteDecision | undefined {
    if (placement.on !== "replica") return undefined;
    let candidates = this.#candidates(new Set([first]));
    if (placement.maxLagMs !== undefined) candidates = withinLag(candidates, placement.maxLagMs);
    if (candidates.length === 0) return undefined;
    if (this.#zones !== undefined) candidates = this.#zones.among(candidates);
    const chosen = candidates.length === 1 ? candidates[0] : this.#select(candidates);
    const node = candidates.includes(chosen as DbNode) ? (chosen as DbNode) : (candidates[0] as DbNode);
    return this.#decision(node, placement.reason);
  }

  /** Why no replica could take a read (`breaker-open`, `down`, `failed`, ...), for the `fallback` event. */
  whyNoReplica(exclude?: ReadonlySet<DbNode>): string {
    const reasons = new Set<string>();
    for (const replica of this.replicas) {
      if (exclude?.has(replica)) reasons.add("failed");
      for (const flag of replica.rotation.flags()) reasons.add(flag === "breaker" ? "breaker-open" : flag);
    }
    return [...reasons].join(",") || "none";
  }

  /** Every node, primary first. */
  get nodes(): readonly DbNode[] {
    return [this.primary, ...this.replicas];
  }
}

/** `placement` with the call's own staleness bound, when it has one. */
function withBound(placement: ReplicaPlacement, maxLagMs: number | undefined): Placement {
  return maxLagMs === undefined ? placement : { ...placement, maxLagMs };
}

function hasReplayed(replica: DbNode, lsn: Lsn): boolean {
  const replayed = replica.observed?.replayLsn;
  return replayed !== undefined && lsnReached(replayed, lsn);
}

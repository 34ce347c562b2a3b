import type { DbNode } from "../nodes/db-node.js";

/** Whether the replica that serves a read is in the preferred zone. */
export type ZoneLocality = "local" | "remote";

/**
 * `replicas.preferZone`: among the replicas that may take a read, those of the zone, and the
 * others only when none of it may. The zone's replicas are listed once, so a read while every
 * replica serves (the usual case) filters nothing.
 */
export class ZonePreference {
  readonly zone: string;
  readonly #all: readonly DbNode[];
  readonly #local: readonly DbNode[];

  constructor(zone: string, all: readonly DbNode[]) {
    this.zone = zone;
    this.#all = all;
    this.#local = Object.freeze(all.filter((replica) => replica.zone === zone));
  }

  /** The candidates of the zone when there are any, else all of them. */
  among(candidates: readonly DbNode[]): readonly DbNode[] {
    if (candidates === this.#all) return this.#local.length > 0 ? this.#local : candidates;
    const local = candidates.filter((replica) => replica.zone === this.zone);
    return local.length > 0 ? local : candidates;
  }

  localityOf(replica: DbNode): ZoneLocality {
    return replica.zone === this.zone ? "local" : "remote";
  }
}

/**
 * What a replica node's probe says about its role, next to what the primary's probe of the same
 * round found: a pure decision, so each case is tested without a database.
 * - `standby`: in recovery, as a replica should be;
 * - `writer`: the server the primary points at, reached as a replica node (a multi-host URL's
 *   writer): it takes writes through the primary, no replica reads;
 * - `candidate`: takes writes while the primary does not: a promotion under way. It has every
 *   commit the primary acknowledged and nothing else writes, so its reads stay consistent;
 * - `primary-via-endpoint`: the primary's own server, reached through a replica endpoint that has
 *   been a standby (HAProxy's replica port, until its check marks the new leader down);
 * - `primary-address`: the primary's own server, through a replica URL never seen as a standby:
 *   the primary's address in disguise, a misconfiguration;
 * - `split-brain`: takes writes while another server, the primary, does too.
 * The first four are no mismatch; the last two are reported (and, under `replicas.strict`, take
 * no reads).
 */
export type ReplicaRole =
  | "standby"
  | "writer"
  | "candidate"
  | "primary-via-endpoint"
  | "primary-address"
  | "split-brain";

export interface ReplicaRoleInput {
  readonly inRecovery: boolean;
  /** The node reaches the server the primary points at now (same connection identity). */
  readonly reachesPrimary: boolean;
  /** Which server instance answered (`ProbeSample.server`). */
  readonly server: string;
  /** The server the primary's probe reached, when it takes writes; undefined when it does not (or did not answer). */
  readonly primaryWriter: string | undefined;
  /** This node has been seen in recovery before. */
  readonly seenAsStandby: boolean;
}

export function replicaRole(input: ReplicaRoleInput): ReplicaRole {
  if (input.inRecovery) return "standby";
  if (input.reachesPrimary) return "writer";
  if (input.primaryWriter === undefined) return "candidate";
  if (input.server !== input.primaryWriter) return "split-brain";
  return input.seenAsStandby ? "primary-via-endpoint" : "primary-address";
}

/** Whether `role` is a mismatch to report. */
export function isRoleMismatch(role: ReplicaRole): boolean {
  return role === "primary-address" || role === "split-brain";
}

/** The report of a mismatch (`role:mismatch`, or a process warning); URLs already redacted. */
export function mismatchMessage(
  role: ReplicaRole,
  replica: { readonly name: string; readonly url: string },
  primaryUrl: string,
  strict: boolean,
): string {
  const what =
    role === "split-brain"
      ? `is not in recovery, and the primary (${primaryUrl}) takes writes too: two servers take writes (split ` +
        "brain: a standby promoted beside the primary, or a replica URL that names another primary); rows written " +
        "through prisma-split do not reach it."
      : "is not in recovery: it is a primary, not a streaming replica, so it has no replication lag to watch.";
  const reads = strict
    ? "replicas.strict is on: it takes no reads."
    : "It keeps serving reads (set replicas.strict to refuse it).";
  return `prisma-split: ${replica.name} (${replica.url}) ${what} Check replicaUrls / DATABASE_REPLICA_URLS. ${reads}`;
}

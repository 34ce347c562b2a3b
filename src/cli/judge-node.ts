import type { NodeRole } from "../errors.js";
import { type Lag, measureLag } from "../monitor/replica-lag.js";
import { type ReplicaRole, replicaRole } from "../monitor/replica-role.js";
import { WalTimeline } from "../monitor/wal-timeline.js";
import type { ServerFacts } from "./probe-server.js";

/** A node as doctor checks it. */
export interface JudgedNode {
  readonly name: string;
  readonly role: NodeRole;
  /** Its URL reaches the server the primary's does (same host, port and database). */
  readonly reachesPrimary: boolean;
}

export interface NodeVerdict {
  readonly roleCheck: "ok" | "mismatch";
  /** A replica's lag (undefined on the primary, or when the primary did not answer bytes). */
  readonly lag: Lag | undefined;
  readonly problems: readonly string[];
}

/**
 * What doctor says of one reachable node, by the replica monitor's own rules (replica-role.ts,
 * replica-lag.ts) applied to one reading, so that doctor and a running createDb() call the same
 * node the same thing. `primary` is the primary's reading, undefined when it did not answer.
 */
export function judgeNode(
  node: JudgedNode,
  facts: ServerFacts,
  primary: ServerFacts | undefined,
  maxLagMs: number,
): NodeVerdict {
  if (node.role === "primary") {
    if (!facts.sample.inRecovery) return { roleCheck: "ok", lag: undefined, problems: [] };
    return {
      roleCheck: "mismatch",
      lag: undefined,
      problems: [
        `${node.name}: is in recovery (a standby): writes would fail with 25006; check DATABASE_URL (a failover?)`,
      ],
    };
  }
  const primaryWrites = primary !== undefined && !primary.sample.inRecovery;
  const role = replicaRole({
    inRecovery: facts.sample.inRecovery,
    reachesPrimary: node.reachesPrimary,
    server: facts.sample.server,
    primaryWriter: primaryWrites ? primary.sample.server : undefined,
    // One reading: doctor never saw this node as a standby.
    seenAsStandby: false,
  });
  const problems: string[] = [];
  const mismatch = describeRole(node.name, role, sameCluster(facts, primary));
  if (mismatch !== undefined) problems.push(mismatch);
  if (role === "standby" && sameCluster(facts, primary) === false) {
    problems.push(
      `${node.name}: belongs to another cluster than the primary (system identifier ${facts.systemIdentifier}, ` +
        `primary ${primary?.systemIdentifier}): it is not a standby of this primary`,
    );
  }
  const lag = role === "standby" ? standbyLag(facts, primaryWrites ? primary : undefined) : undefined;
  if (lag?.lagMs !== undefined && lag.lagMs > maxLagMs) {
    problems.push(`${node.name}: replays ${Math.round(lag.lagMs)} ms behind, more than ${maxLagMs} ms`);
  }
  return { roleCheck: mismatch === undefined ? "ok" : "mismatch", lag, problems };
}

/**
 * The monitor's lag rule for a standby it has watched for no time at all: an empty timeline, so
 * the time is the age of the last replayed commit only while WAL it received waits for replay
 * (an idle primary is no lag).
 */
function standbyLag(facts: ServerFacts, primary: ServerFacts | undefined): Lag | undefined {
  const replayLsn = facts.sample.replayLsn;
  if (replayLsn === undefined) return undefined;
  return measureLag({ ...facts.sample, replayLsn }, primary?.sample.walLsn, new WalTimeline(0), 0);
}

/** Whether the two servers share a system identifier; undefined when either could not be read. */
function sameCluster(facts: ServerFacts, primary: ServerFacts | undefined): boolean | undefined {
  if (facts.systemIdentifier === undefined || primary?.systemIdentifier === undefined) return undefined;
  return facts.systemIdentifier === primary.systemIdentifier;
}

/** A replica's role as a problem to report, or undefined when it is none for doctor. */
function describeRole(name: string, role: ReplicaRole, sameCluster: boolean | undefined): string | undefined {
  const writable =
    `${name}: is not in recovery: this "replica" is a writable primary (reads would not be offloaded, ` +
    "and a mistaken write would succeed there)";
  switch (role) {
    case "standby":
    case "writer":
      return undefined;
    case "primary-address":
    case "primary-via-endpoint":
      return `${writable}; it reaches the primary's own server (same address, port and start time): check DATABASE_REPLICA_URLS`;
    case "split-brain":
      return sameCluster === true
        ? `${writable}, beside the primary, and shares its system identifier: a standby promoted beside it (split brain)`
        : `${writable}, beside the primary: DATABASE_REPLICA_URLS names another primary`;
    case "candidate":
      return `${writable}, while the primary is not: a promotion under way, or DATABASE_URL names the old primary`;
  }
}

import type { ConnectionSettings } from "../config/connection-url.js";
import { resolveConfig } from "../config/resolve-config.js";
import type { NodeRole } from "../errors.js";
import { type ConnectionPlan, describeOversubscription, planConnections } from "../lifecycle/pool-sizing.js";
import { lsnToBytes, probeServer, type ServerFacts } from "./probe-server.js";

export interface DoctorOptions {
  /** Default: DATABASE_URL. */
  primaryUrl?: string;
  /** Default: DATABASE_REPLICA_URLS. */
  replicaUrls?: string;
  /** Default: PRISMA_SPLIT_INSTANCES, else 1 (as createDb's `poolCheck.instances`). */
  instances?: number;
  reserved?: number;
  /** A replica further behind than this is a problem. Default: createDb()'s `replicas.maxLagMs`. */
  maxLagMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface DoctorNode {
  readonly name: string;
  readonly role: NodeRole;
  /** Password shown as `***`. */
  readonly url: string;
  /** `host:port`: pools that reach the same one share its max_connections. */
  readonly server: string;
  readonly connectionLimit: number;
  readonly reachable: boolean;
  readonly error: string | undefined;
  readonly roleCheck: "ok" | "mismatch" | "unknown";
  readonly actualRole: NodeRole | undefined;
  readonly serverVersion: string | undefined;
  readonly latencyMs: number | undefined;
  readonly lagBytes: number | undefined;
  readonly lagMs: number | undefined;
  readonly maxConnections: number | undefined;
  readonly connections: number | undefined;
  readonly plan: ConnectionPlan | undefined;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly instances: number;
  readonly nodes: readonly DoctorNode[];
  readonly problems: readonly string[];
}

/** Checks every node createDb() would use, the way createDb() would read its settings. */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const config = resolveConfig(
    {
      PrismaClient: class DoctorHasNoPrismaClient {} as never,
      ...(options.primaryUrl === undefined ? {} : { primaryUrl: options.primaryUrl }),
      ...(options.replicaUrls === undefined ? {} : { replicaUrls: options.replicaUrls }),
      poolCheck: {
        ...(options.instances === undefined ? {} : { instances: options.instances }),
        ...(options.reserved === undefined ? {} : { reserved: options.reserved }),
      },
      shutdown: false,
      metrics: false,
    },
    env,
  );
  const poolCheck = config.lifecycle.poolCheck as { instances: number; reserved: number | undefined };
  // By default doctor calls a replica lagging when createDb() would stop reading from it.
  const maxLagMs = options.maxLagMs ?? config.monitor?.maxLagMs ?? Number.POSITIVE_INFINITY;
  // A multi-host URL: the primary is the host that takes writes (as createDb() finds it), and
  // that host is no replica.
  const primary = await findWriter(config.primaryCandidates);
  const multiHost = config.primaryCandidates.length > 1;
  const targets: Array<{ name: string; role: NodeRole; settings: ConnectionSettings }> = [
    { name: "primary", role: "primary", settings: primary },
    ...config.replicas
      .map((settings, index) => ({ name: `replica-${index}`, role: "replica" as const, settings }))
      .filter((target) => !multiHost || target.settings.identity !== primary.identity),
  ];
  const facts = await Promise.all(
    targets.map((target) =>
      probeServer(target.settings, target.settings.connectTimeoutMs || 5_000).then(
        (value): ServerFacts | Error => value,
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      ),
    ),
  );

  const serverOf = (settings: ConnectionSettings) => settings.identity.split("/")[0] as string;
  const plans = new Map<string, ConnectionPlan>();
  targets.forEach((target, index) => {
    const fact = facts[index];
    const server = serverOf(target.settings);
    if (fact instanceof Error || fact === undefined || plans.has(server)) return;
    const limits = targets
      .filter((other) => serverOf(other.settings) === server)
      .map((other) => other.settings.poolMax);
    plans.set(
      server,
      planConnections({
        maxConnections: fact.maxConnections,
        superuserReserved: fact.superuserReserved,
        instances: poolCheck.instances,
        connectionLimits: limits,
        ...(poolCheck.reserved === undefined ? {} : { reserved: poolCheck.reserved }),
      }),
    );
  });

  const primaryFacts = facts[0] instanceof Error ? undefined : facts[0];
  const problems: string[] = [];
  const nodes = targets.map((target, index): DoctorNode => {
    const fact = facts[index];
    const server = serverOf(target.settings);
    const base = {
      name: target.name,
      role: target.role,
      url: target.settings.redactedUrl,
      server,
      connectionLimit: target.settings.poolMax,
    };
    if (fact instanceof Error || fact === undefined) {
      problems.push(`${target.name}: unreachable (${target.settings.redactedUrl}): ${fact?.message ?? "no answer"}`);
      return { ...base, ...UNKNOWN, reachable: false, error: fact?.message };
    }
    const actualRole: NodeRole = fact.inRecovery ? "replica" : "primary";
    if (actualRole !== target.role) problems.push(describeMismatch(target.name, target.role));
    if (
      target.role === "replica" &&
      primaryFacts?.systemIdentifier !== undefined &&
      fact.systemIdentifier !== undefined &&
      fact.systemIdentifier !== primaryFacts.systemIdentifier
    ) {
      problems.push(
        `${target.name}: belongs to another cluster than the primary (system identifier ${fact.systemIdentifier}, ` +
          `primary ${primaryFacts.systemIdentifier}): it is not a standby of this primary`,
      );
    }
    if (
      target.role === "replica" &&
      !fact.inRecovery &&
      primaryFacts !== undefined &&
      !primaryFacts.inRecovery &&
      fact.systemIdentifier !== undefined &&
      fact.systemIdentifier === primaryFacts.systemIdentifier
    ) {
      problems.push(
        `${target.name}: is writable and shares the primary's system identifier: the primary under another ` +
          "name, or a standby promoted beside it (split brain)",
      );
    }
    let lagBytes: number | undefined;
    if (
      target.role === "replica" &&
      fact.inRecovery &&
      fact.walLsn &&
      primaryFacts?.walLsn &&
      !primaryFacts.inRecovery
    ) {
      const behind = lsnToBytes(primaryFacts.walLsn) - lsnToBytes(fact.walLsn);
      lagBytes = Number(behind > 0n ? behind : 0n);
    }
    const lagMs = target.role === "replica" ? fact.replayDelayMs : undefined;
    if (lagMs !== undefined && lagMs > maxLagMs) {
      problems.push(`${target.name}: replays ${Math.round(lagMs)} ms behind, more than ${maxLagMs} ms`);
    }
    return {
      ...base,
      reachable: true,
      error: undefined,
      roleCheck: actualRole === target.role ? "ok" : "mismatch",
      actualRole,
      serverVersion: fact.serverVersion,
      latencyMs: Math.round(fact.latencyMs * 100) / 100,
      lagBytes,
      lagMs: lagMs === undefined ? undefined : Math.round(lagMs),
      maxConnections: fact.maxConnections,
      connections: fact.connections,
      plan: plans.get(server),
    };
  });

  for (const [server, plan] of plans) {
    if (plan.fits) continue;
    const names = nodes.filter((node) => node.server === server).map((node) => node.name);
    problems.push(describeOversubscription(server, names, plan));
  }
  return { ok: problems.length === 0, instances: poolCheck.instances, nodes, problems };
}

/** The first candidate not in recovery; the first candidate when none answers as a writer (its problem is then reported). */
async function findWriter(candidates: readonly ConnectionSettings[]): Promise<ConnectionSettings> {
  const first = candidates[0] as ConnectionSettings;
  if (candidates.length === 1) return first;
  const answers = await Promise.all(
    candidates.map((settings) =>
      probeServer(settings, settings.connectTimeoutMs || 5_000).then(
        (fact) => !fact.inRecovery,
        () => false,
      ),
    ),
  );
  return candidates[answers.indexOf(true)] ?? first;
}

function describeMismatch(name: string, role: NodeRole): string {
  return role === "replica"
    ? `${name}: is not in recovery: this "replica" is a writable primary (reads would not be offloaded, ` +
        "and a mistaken write would succeed there); check DATABASE_REPLICA_URLS"
    : `${name}: is in recovery (a standby): writes would fail with 25006; check DATABASE_URL (a failover?)`;
}

const UNKNOWN = {
  roleCheck: "unknown",
  actualRole: undefined,
  serverVersion: undefined,
  latencyMs: undefined,
  lagBytes: undefined,
  lagMs: undefined,
  maxConnections: undefined,
  connections: undefined,
  plan: undefined,
} as const;

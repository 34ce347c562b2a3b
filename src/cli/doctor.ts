import type { ConnectionSettings } from "../config/connection-url.js";
import { resolveConfig } from "../config/resolve-config.js";
import type { NodeRole } from "../errors.js";
import {
  type ConnectionPlan,
  describeClientOversubscription,
  describeOversubscription,
  planConnections,
} from "../lifecycle/pool-sizing.js";
import { type PgBouncerLimits, readPgBouncerLimits } from "./probe-pgbouncer.js";
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
  /**
   * The pool arithmetic of its server: against `max_connections`, or, behind PgBouncer, against
   * PgBouncer's `max_client_conn` when its admin console answered (undefined when it did not).
   */
  readonly plan: ConnectionPlan | undefined;
  /** Behind PgBouncer (`pgbouncer=true`): its limits, or why they could not be read. */
  readonly pgbouncer: PgBouncerCheck | undefined;
}

/** What doctor learned of the PgBouncer a node's URL reaches. */
export interface PgBouncerCheck {
  readonly limits: PgBouncerLimits | undefined;
  /** Why the admin console did not answer (usually: the app's role is not in admin_users / stats_users). */
  readonly unreadable: string | undefined;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly instances: number;
  readonly nodes: readonly DoctorNode[];
  readonly problems: readonly string[];
  /** What was checked differently, or not at all, and why (not problems: exit code 0). */
  readonly notes: readonly string[];
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
  const poolsOn = (server: string) => targets.filter((other) => serverOf(other.settings) === server);
  const bouncers = await checkPgBouncers(targets, facts, serverOf);
  const plans = new Map<string, ConnectionPlan>();
  targets.forEach((target, index) => {
    const fact = facts[index];
    const server = serverOf(target.settings);
    if (fact instanceof Error || fact === undefined || plans.has(server)) return;
    const limits = poolsOn(server).map((other) => other.settings.poolMax);
    const bouncer = bouncers.get(server);
    if (bouncer !== undefined) {
      // Behind PgBouncer the pools are its clients: the server's max_connections is not theirs to use up.
      if (bouncer.limits !== undefined) {
        plans.set(
          server,
          planConnections({
            maxConnections: bouncer.limits.maxClientConn,
            reserved: 0,
            instances: poolCheck.instances,
            connectionLimits: limits,
          }),
        );
      }
      return;
    }
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
      return { ...base, ...UNKNOWN, reachable: false, error: fact?.message, pgbouncer: bouncers.get(server) };
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
      pgbouncer: bouncers.get(server),
    };
  });

  const namesOn = (server: string) => nodes.filter((node) => node.server === server).map((node) => node.name);
  for (const [server, plan] of plans) {
    if (plan.fits) continue;
    const describe = bouncers.has(server) ? describeClientOversubscription : describeOversubscription;
    problems.push(describe(server, namesOn(server), plan));
  }
  const notes = [...bouncers].map(([server, bouncer]) => {
    const perInstance = poolsOn(server).reduce((sum, target) => sum + target.settings.poolMax, 0);
    return describePgBouncerCheck(server, namesOn(server), bouncer, poolCheck.instances, perInstance);
  });
  return { ok: problems.length === 0, instances: poolCheck.instances, nodes, problems, notes };
}

/**
 * For each server reached with `pgbouncer=true` (and reachable): PgBouncer's limits from its
 * admin console, or why they could not be read.
 */
async function checkPgBouncers(
  targets: ReadonlyArray<{ settings: ConnectionSettings }>,
  facts: ReadonlyArray<ServerFacts | Error>,
  serverOf: (settings: ConnectionSettings) => string,
): Promise<Map<string, PgBouncerCheck>> {
  const first = new Map<string, ConnectionSettings>();
  targets.forEach((target, index) => {
    const server = serverOf(target.settings);
    if (target.settings.pgbouncer && !(facts[index] instanceof Error) && !first.has(server))
      first.set(server, target.settings);
  });
  const checks = await Promise.all(
    [...first].map(async ([server, settings]): Promise<[string, PgBouncerCheck]> => {
      try {
        const limits = await readPgBouncerLimits(settings, settings.connectTimeoutMs || 5_000);
        return [server, { limits, unreadable: undefined }];
      } catch (error) {
        return [server, { limits: undefined, unreadable: error instanceof Error ? error.message : String(error) }];
      }
    }),
  );
  return new Map(checks);
}

function describePgBouncerCheck(
  server: string,
  names: readonly string[],
  bouncer: PgBouncerCheck,
  instances: number,
  perInstance: number,
): string {
  const behind =
    `${names.join(", ")}: behind PgBouncer (pgbouncer=true) at ${server}: the server's max_connections is not ` +
    "checked (PgBouncer puts these pools' queries on its own server connections)";
  const clients = `${instances} instance(s) x ${perInstance} = ${instances * perInstance} client connections`;
  const limits = bouncer.limits;
  if (limits === undefined) {
    return (
      `${behind}, and PgBouncer's own limits could not be read (its admin console: ${bouncer.unreadable}): ` +
      `check yourself that ${clients} fit its max_client_conn, or run doctor as a user in its admin_users or stats_users`
    );
  }
  const pool =
    limits.defaultPoolSize === undefined
      ? ""
      : `; it opens at most default_pool_size ${limits.defaultPoolSize}` +
        `${limits.reservePoolSize ? ` + reserve_pool_size ${limits.reservePoolSize}` : ""} server connections per database and user`;
  return `${behind}; ${clients} counted against its max_client_conn ${limits.maxClientConn} (SHOW CONFIG)${pool}`;
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

import type { ConnectionSettings } from "../config/connection-url.js";
import { resolveConfig } from "../config/resolve-config.js";
import type { NodeRole } from "../errors.js";
import {
  type ConnectionPlan,
  describeClientOversubscription,
  describeOversubscription,
  planConnections,
} from "../lifecycle/pool-sizing.js";
import { judgeNode } from "./judge-node.js";
import { type PgBouncerLimits, readPgBouncerLimits } from "./probe-pgbouncer.js";
import { probeServer, type ServerFacts } from "./probe-server.js";

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

interface Target {
  readonly name: string;
  readonly role: NodeRole;
  readonly settings: ConnectionSettings;
}

type PoolCheckSettings = { readonly instances: number; readonly reserved: number | undefined };

/** Checks every node createDb() would use, the way createDb() would read its settings. */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
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
    options.env ?? process.env,
  );
  const poolCheck = config.lifecycle.poolCheck as PoolCheckSettings;
  // By default doctor calls a replica lagging when createDb() would stop reading from it.
  const maxLagMs = options.maxLagMs ?? config.monitor?.maxLagMs ?? Number.POSITIVE_INFINITY;
  const primary = await findWriter(config.primaryCandidates);
  const targets = targetsOf(primary, config.primaryCandidates.length > 1, config.replicas);
  const facts = await Promise.all(targets.map((target) => probeTarget(target.settings)));

  const bouncers = await checkPgBouncers(targets, facts);
  const plans = planBudgets(targets, facts, bouncers, poolCheck);
  const primaryFacts = facts[0] instanceof Error ? undefined : facts[0];
  const problems: string[] = [];
  const nodes = targets.map((target, index): DoctorNode => {
    const fact = facts[index] as ServerFacts | Error;
    const server = serverOf(target.settings);
    const base = {
      name: target.name,
      role: target.role,
      url: target.settings.redactedUrl,
      server,
      connectionLimit: target.settings.poolMax,
      pgbouncer: bouncers.get(server),
    };
    if (fact instanceof Error) {
      problems.push(`${target.name}: unreachable (${target.settings.redactedUrl}): ${fact.message}`);
      return { ...base, ...UNKNOWN, reachable: false, error: fact.message };
    }
    const verdict = judgeNode(
      { name: target.name, role: target.role, reachesPrimary: target.settings.identity === primary.identity },
      fact,
      primaryFacts,
      maxLagMs,
    );
    problems.push(...verdict.problems);
    return {
      ...base,
      reachable: true,
      error: undefined,
      roleCheck: verdict.roleCheck,
      actualRole: fact.sample.inRecovery ? "replica" : "primary",
      serverVersion: fact.serverVersion,
      latencyMs: Math.round(fact.latencyMs * 100) / 100,
      lagBytes: verdict.lag?.lagBytes,
      lagMs: verdict.lag?.lagMs === undefined ? undefined : Math.round(verdict.lag.lagMs),
      maxConnections: fact.maxConnections,
      connections: fact.connections,
      plan: plans.get(server),
    };
  });

  const namesOn = (server: string) => nodes.filter((node) => node.server === server).map((node) => node.name);
  for (const [server, plan] of plans) {
    if (plan.fits) continue;
    const describe = bouncers.has(server) ? describeClientOversubscription : describeOversubscription;
    problems.push(describe(server, namesOn(server), plan));
  }
  const notes = [...bouncers].map(([server, bouncer]) => {
    const perInstance = poolsOn(targets, server).reduce((sum, target) => sum + target.settings.poolMax, 0);
    return describePgBouncerCheck(server, namesOn(server), bouncer, poolCheck.instances, perInstance);
  });
  return { ok: problems.length === 0, instances: poolCheck.instances, nodes, problems, notes };
}

/**
 * The nodes to check: the primary, then the replicas. With a multi-host URL the primary is the
 * host that takes writes (as createDb() finds it), and that host is no replica.
 */
function targetsOf(primary: ConnectionSettings, multiHost: boolean, replicas: readonly ConnectionSettings[]): Target[] {
  return [
    { name: "primary", role: "primary", settings: primary },
    ...replicas
      .map((settings, index) => ({ name: `replica-${index}`, role: "replica" as const, settings }))
      .filter((target) => !multiHost || target.settings.identity !== primary.identity),
  ];
}

function probeTarget(settings: ConnectionSettings): Promise<ServerFacts | Error> {
  return probeServer(settings, settings.connectTimeoutMs || 5_000).then(
    (value) => value,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
}

/** `host:port`: pools that reach the same one share its max_connections. */
function serverOf(settings: ConnectionSettings): string {
  return settings.identity.split("/")[0] as string;
}

function poolsOn(targets: readonly Target[], server: string): Target[] {
  return targets.filter((target) => serverOf(target.settings) === server);
}

/**
 * Per server, the pool arithmetic of every pool that reaches it: against its `max_connections`,
 * or behind PgBouncer against PgBouncer's `max_client_conn` (the pools are its clients; the
 * server's connections are PgBouncer's to open), when its admin console answered.
 */
function planBudgets(
  targets: readonly Target[],
  facts: ReadonlyArray<ServerFacts | Error>,
  bouncers: ReadonlyMap<string, PgBouncerCheck>,
  poolCheck: PoolCheckSettings,
): Map<string, ConnectionPlan> {
  const plans = new Map<string, ConnectionPlan>();
  targets.forEach((target, index) => {
    const fact = facts[index];
    const server = serverOf(target.settings);
    if (fact instanceof Error || fact === undefined || plans.has(server)) return;
    const connectionLimits = poolsOn(targets, server).map((other) => other.settings.poolMax);
    const bouncer = bouncers.get(server);
    if (bouncer === undefined) {
      plans.set(
        server,
        planConnections({
          maxConnections: fact.maxConnections,
          superuserReserved: fact.superuserReserved,
          instances: poolCheck.instances,
          connectionLimits,
          ...(poolCheck.reserved === undefined ? {} : { reserved: poolCheck.reserved }),
        }),
      );
    } else if (bouncer.limits !== undefined) {
      plans.set(
        server,
        planConnections({
          maxConnections: bouncer.limits.maxClientConn,
          reserved: 0,
          instances: poolCheck.instances,
          connectionLimits,
        }),
      );
    }
  });
  return plans;
}

/**
 * For each server reached with `pgbouncer=true` (and reachable): PgBouncer's limits from its
 * admin console, or why they could not be read.
 */
async function checkPgBouncers(
  targets: readonly Target[],
  facts: ReadonlyArray<ServerFacts | Error>,
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
        (fact) => !fact.sample.inRecovery,
        () => false,
      ),
    ),
  );
  return candidates[answers.indexOf(true)] ?? first;
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

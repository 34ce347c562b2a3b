import type { LifecycleSettings } from "../config/lifecycle-options.js";
import type { SplitEvents } from "../events.js";
import type { DbNode } from "../nodes/db-node.js";
import { serverNumber, serverQuery } from "../pool/server-text.js";
import { type ConnectionPlan, describeOversubscription, planConnections } from "./pool-sizing.js";

/** The server settings the check reads, in one round trip. `reserved_connections` exists from PostgreSQL 16. */
const SERVER_LIMITS_SQL =
  "SELECT current_setting('max_connections')::int AS max_connections, " +
  "current_setting('superuser_reserved_connections')::int " +
  "+ coalesce(current_setting('reserved_connections', true), '0')::int AS superuser_reserved";

type Warn = (message: string, options: { type: string; code: string }) => void;

/**
 * Checks once per server, lazily, that every instance's pools together fit in the server's
 * `max_connections` minus a reserve, each pool counted at its node's `poolMax` (a `pool.max`
 * override, else `connection_limit`: the size pg really gives it), and warns (a
 * `pool:oversubscribed` event and a process warning) when they do not. It runs when a node's pool opens its first connection (no query
 * before the app's own) or on the first `$health()`.
 *
 * A server reached with `pgbouncer=true` is not checked: the pools are PgBouncer's clients, the
 * server's `max_connections` bounds PgBouncer's own pool, not them, and PgBouncer's limits
 * (`max_client_conn`) are on its admin console, which the app's role can seldom read. `doctor`
 * reads them when it may, and says so when it may not.
 */
export class PoolBudgetCheck {
  readonly #settings: Exclude<LifecycleSettings["poolCheck"], false> | undefined;
  readonly #events: SplitEvents;
  readonly #warn: Warn;
  /** `host:port` → the nodes whose pools reach it. */
  readonly #servers = new Map<string, DbNode[]>();
  readonly #plans = new Map<string, Promise<ConnectionPlan | undefined>>();
  readonly #settled = new Map<string, ConnectionPlan>();
  #stopped = false;

  constructor(
    nodes: readonly DbNode[],
    events: SplitEvents,
    settings: LifecycleSettings["poolCheck"],
    warn: Warn = (message, options) => process.emitWarning(message, options),
  ) {
    this.#settings = settings === false ? undefined : settings;
    this.#events = events;
    this.#warn = warn;
    for (const node of nodes) {
      if (node.settings.pgbouncer) continue;
      const server = serverOf(node);
      this.#servers.set(server, [...(this.#servers.get(server) ?? []), node]);
    }
  }

  /** Runs the check for a node's server when its pool first connects. */
  arm(): void {
    if (this.#settings === undefined) return;
    for (const [server, nodes] of this.#servers) {
      for (const node of nodes) {
        // After the connect event, so the check queues behind the query that opened the connection.
        node.pool.once("connect", () => setImmediate(() => void this.#check(server)));
      }
    }
  }

  /** Checks every server not checked yet (the first `$health()` calls it). */
  async ensure(): Promise<void> {
    if (this.#settings === undefined) return;
    await Promise.all([...this.#servers.keys()].map((server) => this.#check(server)));
  }

  /** The result for a node's server, once known. */
  planFor(node: DbNode): ConnectionPlan | undefined {
    return this.#settled.get(serverOf(node));
  }

  stop(): void {
    this.#stopped = true;
  }

  #check(server: string): Promise<ConnectionPlan | undefined> {
    const settings = this.#settings;
    const nodes = this.#servers.get(server);
    if (settings === undefined || nodes === undefined || this.#stopped) return Promise.resolve(undefined);
    let plan = this.#plans.get(server);
    if (plan === undefined) {
      plan = this.#query(server, nodes, settings);
      this.#plans.set(server, plan);
    }
    return plan;
  }

  async #query(
    server: string,
    nodes: DbNode[],
    settings: Exclude<LifecycleSettings["poolCheck"], false>,
  ): Promise<ConnectionPlan | undefined> {
    const node = nodes.find((candidate) => !candidate.pool.ended);
    if (node === undefined) return undefined;
    let plan: ConnectionPlan;
    try {
      const { rows } = await node.pool.query<{ max_connections: string; superuser_reserved: string }>(
        serverQuery(SERVER_LIMITS_SQL),
      );
      plan = planConnections({
        maxConnections: serverNumber(rows[0]?.max_connections) as number,
        superuserReserved: serverNumber(rows[0]?.superuser_reserved) as number,
        instances: settings.instances,
        connectionLimits: nodes.map((each) => each.settings.poolMax),
        ...(settings.reserved === undefined ? {} : { reserved: settings.reserved }),
      });
    } catch {
      // Unreachable now: forget the attempt, so the next $health() tries again.
      this.#plans.delete(server);
      return undefined;
    }
    this.#settled.set(server, plan);
    if (!plan.fits && !this.#stopped) this.#report(server, nodes, plan);
    return plan;
  }

  #report(server: string, nodes: DbNode[], plan: ConnectionPlan): void {
    const names = nodes.map((node) => node.name);
    const message = `prisma-split: ${describeOversubscription(server, names, plan)}`;
    this.#events.emit("pool:oversubscribed", {
      server,
      nodes: names,
      maxConnections: plan.maxConnections,
      reserved: plan.reserved,
      instances: plan.instances,
      planned: plan.planned,
      budget: plan.budget,
      recommendedConnectionLimit: plan.recommendedConnectionLimit,
      message,
    });
    this.#warn(message, { type: "PrismaSplitWarning", code: "PRISMA_SPLIT_POOL_OVERSUBSCRIBED" });
  }
}

/** `host:port` of the server a node's pool reaches. */
export function serverOf(node: DbNode): string {
  return node.settings.identity.split("/")[0] ?? node.settings.identity;
}

import type { NodeRole } from "../errors.js";
import type { ConnectionSettings } from "./connection-url.js";
import {
  type ClientOptionsOption,
  clientOptionsFor,
  type NodePoolConfig,
  type PoolOption,
  poolConfigFor,
} from "./node-overrides.js";
import { withCheckedPassword } from "./password-function.js";
import type { ResolvedUrls } from "./resolve-urls.js";
import { withTimeBounds } from "./time-bounds.js";

/** One node as `createDb()` builds it: the settings its pool and its PrismaClient get. */
export interface NodeConfig {
  /** `primary`, `replica-0`, `replica-1`, ... */
  readonly name: string;
  readonly role: NodeRole;
  /** Position among the replicas; -1 for the primary. */
  readonly index: number;
  /**
   * Its URL's settings with the statement time bound and the user's `pool` settings, `poolMax` and
   * `poolTimeoutMs` as its pool really has them (a `pool.max` wins over `connection_limit`): what
   * the bulkhead admits by, the pool check counts and the metrics report.
   */
  readonly settings: ConnectionSettings;
  readonly clientOptions: Readonly<Record<string, unknown>>;
  /** The zone the replica runs in (`replicas.zones`, `DATABASE_REPLICA_ZONES`, `?zone=`); undefined for the primary. */
  readonly zone: string | undefined;
}

export interface ResolvedNodes {
  readonly primary: NodeConfig;
  readonly replicas: readonly NodeConfig[];
  /**
   * Every server the primary may move to, each once: the primary URL's hosts (with the primary's
   * `pool` settings), never a replica URL. The primary's own entry is its node's settings.
   */
  readonly candidates: readonly ConnectionSettings[];
}

/**
 * Each node's settings: the URL, the statement time bound (`boundMs`, see time-bounds.ts) and the
 * `pool` and `clientOptions` the user gave for it (their functions are called here, once per node).
 * A `password` function is checked on each call (password-function.ts).
 */
export function resolveNodes(
  urls: ResolvedUrls,
  overrides: { readonly pool: PoolOption | undefined; readonly clientOptions: ClientOptionsOption | undefined },
  boundMs: number | false,
  zones: readonly (string | undefined)[] = [],
): ResolvedNodes {
  const node = (name: string, role: NodeRole, index: number, url: ConnectionSettings): NodeConfig => {
    const described = { name, role, index, url: url.connectionString };
    return {
      name,
      role,
      index,
      settings: nodeSettings(url, withCheckedPassword(poolConfigFor(overrides.pool, described), name), boundMs),
      clientOptions: clientOptionsFor(overrides.clientOptions, described),
      zone: role === "replica" ? zones[index] : undefined,
    };
  };
  const primary = node("primary", "primary", -1, urls.primary);
  const replicas = urls.replicas.map((url, index) => node(`replica-${index}`, "replica", index, url));
  // Never a replica URL: it is often a fixed-role endpoint (HAProxy's replica port, a reader DNS
  // name) that reaches the new leader for a few seconds during a switchover. To have writes follow
  // a promoted replica, list it among the primary URL's hosts.
  const candidates = new Map<string, ConnectionSettings>();
  for (const url of urls.primaryCandidates) {
    if (!candidates.has(url.identity))
      candidates.set(url.identity, nodeSettings(url, primary.settings.driver, boundMs));
  }
  // The primary node starts as the first candidate itself, so "where it points" compares by identity.
  candidates.set(primary.settings.identity, primary.settings);
  return { primary, replicas, candidates: [...candidates.values()] };
}

function nodeSettings(
  url: ConnectionSettings,
  driver: NodePoolConfig | undefined,
  boundMs: number | false,
): ConnectionSettings {
  const bounded = withTimeBounds(url, boundMs, url.pgbouncer);
  return {
    ...bounded,
    driver,
    poolMax: driver?.max ?? bounded.poolMax,
    poolTimeoutMs: driver?.connectionTimeoutMillis ?? bounded.poolTimeoutMs,
  };
}

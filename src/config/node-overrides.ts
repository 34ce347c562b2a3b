import { ConfigurationError, type NodeRole } from "../errors.js";
import { isPlainObject, show } from "./validate.js";

/** The node a `pool` or `clientOptions` function is asked about. */
export interface NodeDescriptor {
  /** `primary`, `replica-0`, `replica-1`, ... */
  readonly name: string;
  readonly role: NodeRole;
  /** Position in `replicaUrls`; -1 for the primary. */
  readonly index: number;
  /** The node's connection string, without the parameters only Prisma understands (`connection_limit`, ...). */
  readonly url: string;
}

/**
 * `pg` pool and client settings for one node, merged over what its URL gives: `ssl` (an object
 * with a CA bundle), `password` (a string, or a function called for every new connection: IAM
 * or Azure AD tokens, rotated secrets), `types` (type parsers), `keepAlive`, `user`, ...
 * `max` and `connectionTimeoutMillis` here win over `connection_limit`/`pool_timeout`.
 */
export type NodePoolConfig = Record<string, unknown> & {
  ssl?: unknown;
  password?: string | (() => string | Promise<string>);
  types?: unknown;
};

/** The `pool` option: the same settings for every node, or a function of the node. */
export type PoolOption = NodePoolConfig | ((node: NodeDescriptor) => NodePoolConfig | undefined);

/** The `clientOptions` option: the same PrismaClient options for every node, or a function of the node. */
export type ClientOptionsOption =
  | Record<string, unknown>
  | ((node: NodeDescriptor) => Record<string, unknown> | undefined);

/** Pool keys prisma-split sets itself: the URL is the one place a node's address comes from. */
const OWN_POOL_KEYS = ["Client", "connectionString"];

/** `pool` or `clientOptions` as given: an object or a function; anything else is refused at `createDb()`. */
export function readOverrideOption<T>(setting: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "function") return value as T;
  if (!isPlainObject(value)) {
    throw new ConfigurationError(setting, `must be an object or a function of the node, got ${show(value)}`);
  }
  checkOverride(setting, value, setting === "pool" ? OWN_POOL_KEYS : ["adapter"]);
  return { ...value } as T;
}

/** One node's pool settings from the `pool` option (undefined: the URL alone). */
export function poolConfigFor(option: PoolOption | undefined, node: NodeDescriptor): NodePoolConfig | undefined {
  return resolveFor("pool", option, node, OWN_POOL_KEYS) as NodePoolConfig | undefined;
}

/** One node's PrismaClient options from the `clientOptions` option. */
export function clientOptionsFor(
  option: ClientOptionsOption | undefined,
  node: NodeDescriptor,
): Record<string, unknown> {
  return resolveFor("clientOptions", option, node, ["adapter"]) ?? {};
}

function resolveFor(
  setting: string,
  option: unknown,
  node: NodeDescriptor,
  ownKeys: readonly string[],
): Record<string, unknown> | undefined {
  if (typeof option !== "function") return option as Record<string, unknown> | undefined;
  const named = `${setting}(${node.name})`;
  const value: unknown = option(node);
  if (value === undefined) return undefined;
  if (!isPlainObject(value))
    throw new ConfigurationError(named, `must return an object or undefined, got ${show(value)}`);
  checkOverride(named, value, ownKeys);
  return { ...value };
}

function checkOverride(setting: string, value: Record<string, unknown>, ownKeys: readonly string[]): void {
  for (const key of ownKeys) {
    if (key in value) {
      throw new ConfigurationError(
        `${setting}.${key}`,
        key === "adapter"
          ? "is set by prisma-split (one PrismaPg per node): remove it"
          : "is set by prisma-split from the node's URL: put it in primaryUrl/replicaUrls",
      );
    }
  }
  const password = value.password;
  if (password !== undefined && typeof password !== "string" && typeof password !== "function") {
    // Never shown: it may be a secret of a type we did not expect.
    throw new ConfigurationError(`${setting}.password`, "must be a string or a function returning one");
  }
}

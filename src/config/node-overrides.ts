import { ConfigurationError, type NodeRole } from "../errors.js";
import { POOL_OVERRIDE_RULES } from "./schema.js";
import { isPlainObject, type NumberRule, readNumber, show } from "./validate.js";

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
 */
export type NodePoolConfig = Record<string, unknown> & {
  ssl?: unknown;
  password?: string | (() => string | Promise<string>);
  types?: unknown;
  /** The pool's size (an integer from 1 to 262 143); wins over the URL's `connection_limit`. Default: `connection_limit`. */
  max?: number;
  /** ms a query waits for a free connection (0 = forever); wins over the URL's `pool_timeout`. Default: `pool_timeout`. */
  connectionTimeoutMillis?: number;
};

/** The `pool` option: the same settings for every node, or a function of the node. */
export type PoolOption = NodePoolConfig | ((node: NodeDescriptor) => NodePoolConfig | undefined);

/** The `clientOptions` option: the same PrismaClient options for every node, or a function of the node. */
export type ClientOptionsOption =
  | Record<string, unknown>
  | ((node: NodeDescriptor) => Record<string, unknown> | undefined);

/** What an override may not set (prisma-split does), and the numbers it checks the bounds of. */
interface OverrideRules {
  readonly ownKeys: readonly string[];
  readonly numbers: Readonly<Record<string, NumberRule>>;
}

/** The URL is the one place a node's address comes from; `max` and the acquire timeout are counted on. */
const POOL: OverrideRules = { ownKeys: ["Client", "connectionString"], numbers: POOL_OVERRIDE_RULES };
const CLIENT_OPTIONS: OverrideRules = { ownKeys: ["adapter"], numbers: {} };

/** `pool` or `clientOptions` as given: an object or a function; anything else is refused at `createDb()`. */
export function readOverrideOption<T>(setting: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "function") return value as T;
  if (!isPlainObject(value)) {
    throw new ConfigurationError(setting, `must be an object or a function of the node, got ${show(value)}`);
  }
  checkOverride(setting, value, setting === "pool" ? POOL : CLIENT_OPTIONS);
  return { ...value } as T;
}

/** One node's pool settings from the `pool` option (undefined: the URL alone). */
export function poolConfigFor(option: PoolOption | undefined, node: NodeDescriptor): NodePoolConfig | undefined {
  return resolveFor("pool", option, node, POOL) as NodePoolConfig | undefined;
}

/** One node's PrismaClient options from the `clientOptions` option. */
export function clientOptionsFor(
  option: ClientOptionsOption | undefined,
  node: NodeDescriptor,
): Record<string, unknown> {
  return resolveFor("clientOptions", option, node, CLIENT_OPTIONS) ?? {};
}

function resolveFor(
  setting: string,
  option: unknown,
  node: NodeDescriptor,
  rules: OverrideRules,
): Record<string, unknown> | undefined {
  if (typeof option !== "function") return option as Record<string, unknown> | undefined;
  const named = `${setting}(${node.name})`;
  const value: unknown = option(node);
  if (value === undefined) return undefined;
  if (!isPlainObject(value))
    throw new ConfigurationError(named, `must return an object or undefined, got ${show(value)}`);
  checkOverride(named, value, rules);
  return { ...value };
}

function checkOverride(setting: string, value: Record<string, unknown>, rules: OverrideRules): void {
  for (const key of rules.ownKeys) {
    if (key in value) {
      throw new ConfigurationError(
        `${setting}.${key}`,
        key === "adapter"
          ? "is set by prisma-split (one PrismaPg per node): remove it"
          : "is set by prisma-split from the node's URL: put it in primaryUrl/replicaUrls",
      );
    }
  }
  for (const [key, rule] of Object.entries(rules.numbers)) {
    if (value[key] !== undefined) readNumber(`${setting}.${key}`, value[key], rule);
  }
  const password = value.password;
  if (password !== undefined && typeof password !== "string" && typeof password !== "function") {
    // Never shown: it may be a secret of a type we did not expect.
    throw new ConfigurationError(`${setting}.password`, "must be a string or a function returning one");
  }
}

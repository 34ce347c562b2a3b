import { ConfigurationError } from "../errors.js";
import { DEFAULTS } from "./defaults.js";
import { serverIdentity } from "./host-list.js";
import type { NodePoolConfig } from "./node-overrides.js";
import { redactUrl } from "./redact.js";
import { isZoneName } from "./replica-zones.js";
import { URL_PARAMETER_RULES } from "./schema.js";
import { fitsRule, show } from "./validate.js";

/** What one node's connection string means once Prisma's own parameters are given back their meaning. */
export interface ConnectionSettings {
  /** The URL handed to `pg`, without the parameters only Prisma understands. */
  readonly connectionString: string;
  /** The URL as it may be shown: password replaced by `***`. */
  readonly redactedUrl: string;
  /**
   * `host:port/database?user`: two URLs with the same identity reach the same database (`localhost`
   * and loopback addresses alike, `?host=`/`?port=` read as pg reads them).
   */
  readonly identity: string;
  /** `connection_limit`: the pool's `max`. */
  readonly poolMax: number;
  /** `pool_timeout` in ms: how long a query waits for a free connection (0 = forever). */
  readonly poolTimeoutMs: number;
  /** `connect_timeout` in ms: how long opening a connection may take (0 = forever). */
  readonly connectTimeoutMs: number;
  /** `schema`: the Postgres schema Prisma's queries name, and the session's `search_path`. */
  readonly schema: string | undefined;
  /**
   * The `statement_timeout` prisma-split added from `breaker.timeout` (undefined when the URL set
   * its own, or none applies): lifted inside transactions, which Prisma's own options bound.
   */
  readonly statementBoundMs?: number;
  /** `pgbouncer=true`: a PgBouncer in transaction mode is in front (no startup parameters). */
  readonly pgbouncer: boolean;
  /** `zone`: the zone the server runs in (see `replicas.preferZone`); removed from the driver's URL. */
  readonly zone?: string | undefined;
  /** The user's `pg` settings for this node (the `pool` option), merged over the URL by every connection we open. */
  readonly driver?: NodePoolConfig | undefined;
}

/** Parameters Prisma documents but `pg` does not understand: removed from the driver's URL. */
const PRISMA_ONLY_PARAMETERS = ["connection_limit", "pool_timeout", "connect_timeout", "schema", "pgbouncer"];

/** prisma-split's own parameters: removed from the driver's URL too (pg would send them as startup parameters). */
const OWN_PARAMETERS = ["zone"];

/**
 * Reads a node's connection string.
 *
 * @param setting the option it came from (`primaryUrl`, `replicaUrls[0]`), named in errors.
 */
export function parseConnectionUrl(url: unknown, setting: string): ConnectionSettings {
  if (typeof url !== "string" || url.trim() === "") {
    throw new ConfigurationError(setting, `must be a postgresql:// connection string, got ${show(url)}`);
  }
  const text = url.trim();
  const redactedUrl = redactUrl(text);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigurationError(setting, `is not a valid URL: ${redactedUrl}`);
  }
  if (parsed.protocol !== "postgresql:" && parsed.protocol !== "postgres:") {
    throw new ConfigurationError(
      setting,
      `must use the postgresql:// scheme, got "${parsed.protocol}" in ${redactedUrl}`,
    );
  }
  if (parsed.hostname === "" && !parsed.searchParams.has("host")) {
    throw new ConfigurationError(setting, `names no host: ${redactedUrl}`);
  }
  // `user:p@ss/w@rd@host` parses as host "ss" and path "/w@rd@host": a password with an unencoded
  // / ? or # in it. Refused here, before a driver error names part of the password as a host.
  if (parsed.pathname.includes("@") || parsed.hash.includes("@")) {
    throw new ConfigurationError(
      setting,
      `has an "@" after the host, as when the password holds an unencoded / ? # or @: percent-encode ` +
        `the password (encodeURIComponent) in ${redactedUrl}`,
    );
  }

  const params = parsed.searchParams;
  const poolMax = readParameter(params, "connection_limit", setting, redactedUrl);
  const poolTimeoutSeconds = readParameter(params, "pool_timeout", setting, redactedUrl);
  const connectTimeoutSeconds = readParameter(params, "connect_timeout", setting, redactedUrl);
  const schema = params.get("schema") ?? undefined;
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(schema)) {
    throw new ConfigurationError(
      `${setting}?schema`,
      `must be a plain identifier (letters, digits, _), got ${quoteParameter(redactedUrl, "schema", schema)} in ${redactedUrl}`,
    );
  }

  const pgbouncer = params.get("pgbouncer")?.toLowerCase() === "true";
  const zoneParameter = params.get("zone");
  if (zoneParameter !== null && !isZoneName(zoneParameter)) {
    throw new ConfigurationError(
      `${setting}?zone`,
      `must be a zone name (letters, digits, . _ : / -), got ${quoteParameter(redactedUrl, "zone", zoneParameter)} in ${redactedUrl}`,
    );
  }
  const zone = zoneParameter ?? undefined;
  for (const name of [...PRISMA_ONLY_PARAMETERS, ...OWN_PARAMETERS]) params.delete(name);
  const user = decode(parsed.username, setting, "user name", redactedUrl);
  const database = decode(parsed.pathname.slice(1), setting, "database name", redactedUrl) || user;
  return {
    connectionString: parsed.toString(),
    redactedUrl,
    // pg reads `?host=` and `?port=` over the authority: so does the identity.
    identity: `${serverIdentity(params.get("host") || parsed.hostname, params.get("port") || parsed.port || "5432")}/${database}?${user}`,
    poolMax,
    poolTimeoutMs: poolTimeoutSeconds * 1000,
    connectTimeoutMs: connectTimeoutSeconds * 1000,
    schema,
    pgbouncer,
    zone,
  };
}

/** A Prisma URL parameter, within its bounds (schema.ts), or its default when the URL does not set it. */
function readParameter(
  params: URLSearchParams,
  name: keyof typeof DEFAULTS.url,
  setting: string,
  redactedUrl: string,
): number {
  const raw = params.get(name);
  if (raw === null) return DEFAULTS.url[name];
  const rule = URL_PARAMETER_RULES[name];
  const value = raw.trim() === "" ? Number.NaN : Number(raw);
  if (fitsRule(value, rule)) return value;
  const tooLarge = fitsRule(value, { ...rule, max: undefined });
  throw new ConfigurationError(
    `${setting}?${name}`,
    `must be ${tooLarge ? `at most ${rule.max} ${rule.unit} (${rule.whyMax})` : rule.expected}, ` +
      `got ${quoteParameter(redactedUrl, name, raw)} in ${redactedUrl}`,
  );
}

/**
 * A parameter's value, quoted, when the redacted URL shows it too. When the password was not
 * percent-encoded, what the parser took for the query may be part of it (`user:1?x=secret@host`):
 * a value the redacted URL hides is not quoted either.
 */
function quoteParameter(redactedUrl: string, name: string, raw: string): string {
  let visible: string | null = null;
  try {
    visible = new URL(redactedUrl).searchParams.get(name);
  } catch {
    // the redacted URL no longer parses: show nothing of the value
  }
  return visible === raw ? `"${raw}"` : "a value that may be part of the password (not shown)";
}

/** `%xx`-decoded, or a ConfigurationError for a broken escape such as `%zz` or `%` alone. */
function decode(text: string, setting: string, part: string, redactedUrl: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ConfigurationError(
      setting,
      `has a ${part} with a broken %-escape (a % must be followed by two hex digits): ${redactedUrl}`,
    );
  }
}

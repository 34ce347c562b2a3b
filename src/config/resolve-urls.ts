import { ConfigurationError } from "../errors.js";
import { type ConnectionSettings, parseConnectionUrl } from "./connection-url.js";
import { splitHosts } from "./host-list.js";
import { redactUrl } from "./redact.js";
import { show } from "./validate.js";

/** The servers `createDb()` was given, one entry per host. */
export interface ResolvedUrls {
  /** The primary URL's first host: where writes go until the roles are known. */
  readonly primary: ConnectionSettings;
  /**
   * Every host the primary URL lists, in its order (one for a single-host URL): the servers
   * prisma-split asks which one accepts writes.
   */
  readonly primaryCandidates: readonly ConnectionSettings[];
  /** One per replica host: `replicaUrls` / `DATABASE_REPLICA_URLS`, else a multi-host primary URL's hosts. */
  readonly replicas: readonly ConnectionSettings[];
  /** The replicas are a multi-host primary URL's hosts (one of them is the writer and takes no reads). */
  readonly replicasFromPrimaryUrl: boolean;
}

/**
 * The primary's and the replicas' connection strings, one per host; two replicas that reach the
 * same database are refused, and so is a replica that is a single-host primary URL's server. A
 * multi-host primary URL's hosts may also be listed as replicas: one of them is the writer.
 */
export function resolveUrls(
  options: { readonly primaryUrl?: unknown; readonly replicaUrls?: unknown },
  env: NodeJS.ProcessEnv,
): ResolvedUrls {
  const primaryCandidates = resolvePrimaryUrls(options.primaryUrl, env);
  const primary = primaryCandidates[0] as ConnectionSettings;
  const replicaSource = options.replicaUrls === undefined ? "DATABASE_REPLICA_URLS" : "replicaUrls";
  const given = listReplicaUrls(
    options.replicaUrls === undefined ? env.DATABASE_REPLICA_URLS : options.replicaUrls,
    replicaSource,
  ).flatMap((url, index) => {
    const setting = `${replicaSource}[${index}]`;
    if (typeof url !== "string") return [parseConnectionUrl(url, setting)];
    return splitHosts(url.trim(), setting, "replica").urls.map((one) => parseConnectionUrl(one, setting));
  });
  if (given.length === 0 && primaryCandidates.length > 1) {
    return { primary, primaryCandidates, replicas: primaryCandidates, replicasFromPrimaryUrl: true };
  }
  const seen = new Map<string, string>(primaryCandidates.length === 1 ? [[primary.identity, "the primary URL"]] : []);
  given.forEach((replica, index) => {
    const earlier = seen.get(replica.identity);
    if (earlier !== undefined) {
      throw new ConfigurationError(
        `${replicaSource}[${index}]`,
        `reaches the same server and database as ${earlier} (${replica.redactedUrl}); ` +
          "a replica must be a separate streaming standby",
      );
    }
    seen.set(replica.identity, `${replicaSource}[${index}]`);
  });
  return { primary, primaryCandidates, replicas: given, replicasFromPrimaryUrl: false };
}

/**
 * `primaryUrl`, else `DATABASE_URL`. Only a missing option falls back to the variable: `null`
 * or a number given as `primaryUrl` is refused under that name.
 */
function resolvePrimaryUrls(option: unknown, env: NodeJS.ProcessEnv): ConnectionSettings[] {
  const setting = option === undefined ? "DATABASE_URL" : "primaryUrl";
  const url = option === undefined ? env.DATABASE_URL : option;
  if (url === undefined || (typeof url === "string" && url.trim() === "")) {
    throw new ConfigurationError("primaryUrl", "is missing: pass `primaryUrl` or set DATABASE_URL");
  }
  if (typeof url !== "string") return [parseConnectionUrl(url, setting)];
  const candidates = splitHosts(url.trim(), setting, "primary").urls.map((one) => parseConnectionUrl(one, setting));
  const identities = new Set(candidates.map((candidate) => candidate.identity));
  if (identities.size !== candidates.length) {
    throw new ConfigurationError(setting, `lists the same server twice: ${redactUrl(url)}`);
  }
  return candidates;
}

/**
 * `replicaUrls` (an array, or one comma-separated string) or `DATABASE_REPLICA_URLS`, as a list.
 * Commas in a URL's host part list the hosts of one multi-host URL; elsewhere a comma starts the
 * next URL, except in a query (`?host=a,b`) where only a comma followed by `postgres://` or
 * `postgresql://` does: `postgresql://u@r1,r2/db,postgresql://u@r3/db` is two URLs, three replicas.
 */
function listReplicaUrls(value: unknown, setting: string): unknown[] {
  if (value === undefined) return [];
  if (typeof value === "string") {
    return splitUrlList(value)
      .map((url) => url.trim())
      .filter((url) => url !== "");
  }
  if (!Array.isArray(value)) {
    throw new ConfigurationError(
      setting,
      `must be an array of connection strings or a comma-separated string, got ${show(value)}`,
    );
  }
  return [...value];
}

const NEXT_URL = /^\s*postgres(?:ql)?:\/\//i;

function splitUrlList(text: string): string[] {
  const urls: string[] = [];
  let start = 0;
  let part: "scheme" | "authority" | "path" | "query" = "scheme";
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (part === "scheme" && text.startsWith("//", index)) {
      part = "authority";
      index++;
    } else if (part === "authority" && (char === "/" || char === "?" || char === "#")) {
      part = char === "?" ? "query" : "path";
    } else if (part === "path" && char === "?") {
      part = "query";
    } else if (char === "," && part !== "authority" && (part !== "query" || NEXT_URL.test(text.slice(index + 1)))) {
      urls.push(text.slice(start, index));
      start = index + 1;
      part = "scheme";
    }
  }
  urls.push(text.slice(start));
  return urls;
}

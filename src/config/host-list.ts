import { ConfigurationError } from "../errors.js";
import { redactUrl } from "./redact.js";

/** One server of a multi-host connection string's host list. */
export interface HostPort {
  /** A name, an IPv4 address, an IPv6 address without brackets, or a Unix socket directory. */
  readonly host: string;
  readonly port: number;
}

/**
 * libpq's `target_session_attrs`, as prisma-split reads it. On a primary URL, `any` (libpq's
 * default), `read-write` and `primary` all mean "the writer among these hosts": prisma-split
 * always asks each host `pg_is_in_recovery()` and sends writes to the one that accepts them.
 * On a replica URL, `any`, `read-only`, `standby` and `prefer-standby` mean "each of these hosts,
 * as a standby". The other combinations are refused: they ask a URL for what its role cannot be.
 */
export const SESSION_ATTRS = Object.freeze({
  primary: ["any", "read-write", "primary"],
  replica: ["any", "read-only", "standby", "prefer-standby"],
} as const);

export const DEFAULT_PORT = 5432;

/** A connection string cut into one single-host URL per server it lists. */
export interface HostList {
  /** One `postgresql://` URL per host, in the order given, each naming only that host. */
  readonly urls: readonly string[];
  /** The hosts of a multi-host URL (or one given as `?host=`); empty for a plain single-host URL. */
  readonly hosts: readonly HostPort[];
  /** `target_session_attrs`, lower-cased; `any` when absent. */
  readonly targetSessionAttrs: string;
}

const URL_PARTS = /^(\s*postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/is;

/**
 * Splits a libpq-style multi-host URL (`postgresql://u:pw@h1:5432,h2,[::1]:5433/db`, or the
 * `?host=h1,h2&port=5432,5433` query forms) into single-host URLs. As in libpq, a host without
 * a port gets 5432; one `port` value applies to every host, a list needs one per host; the
 * `host`/`port` query parameters win over the authority. A URL naming one host comes back as it
 * was (the `host`/`port` parameters folded into it), so its other checks stay where they are.
 *
 * @param role which `target_session_attrs` values make sense (see {@link SESSION_ATTRS}).
 * @example
 * splitHosts("postgresql://app@h1,h2:5433/app", "primaryUrl", "primary").urls;
 * // ["postgresql://app@h1:5432/app", "postgresql://app@h2:5433/app"]
 */
export function splitHosts(url: string, setting: string, role: "primary" | "replica"): HostList {
  const parts = URL_PARTS.exec(url);
  if (parts === null) return { urls: [url], hosts: [], targetSessionAttrs: "any" };
  const [, scheme, authority, rest] = parts as unknown as [string, string, string, string];
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? "" : authority.slice(0, at + 1);
  const hostPart = authority.slice(at + 1);
  const queryAt = rest.indexOf("?");
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? "" : rest.slice(queryAt + 1));
  const redacted = redactUrl(url);

  const targetSessionAttrs = (params.get("target_session_attrs") ?? "any").trim().toLowerCase();
  const allowed: readonly string[] = SESSION_ATTRS[role];
  if (!allowed.includes(targetSessionAttrs)) {
    throw new ConfigurationError(
      `${setting}?target_session_attrs`,
      `must be one of ${allowed.map((value) => `"${value}"`).join(", ")} on a ${role} URL, got ` +
        `${JSON.stringify(targetSessionAttrs)} in ${redacted}` +
        (role === "primary" ? " (list standbys in replicaUrls / DATABASE_REPLICA_URLS)" : ""),
    );
  }
  params.delete("target_session_attrs");

  const fromQuery = params.get("host");
  const queryPorts = params.get("port");
  // One host, said in the authority: the URL parser checks it (a garbled password looks like one).
  if (fromQuery === null && queryPorts === null && !hostPart.includes(",")) {
    return { urls: [targetSessionAttrs === "any" ? url : withoutSessionAttrs(url)], hosts: [], targetSessionAttrs };
  }
  const hostNames = fromQuery === null ? splitAuthorityHosts(hostPart) : fromQuery.split(",").map(plainHost);
  const ports = assignPorts(hostNames, queryPorts?.split(",") ?? undefined, setting, redacted);
  params.delete("host");
  params.delete("port");
  if (hostNames.length === 0 || hostNames.some((entry) => entry.host === "")) {
    if (hostNames.length <= 1 && fromQuery === null) return { urls: [url], hosts: [], targetSessionAttrs };
    throw new ConfigurationError(setting, `has an empty host in its host list: ${redacted}`);
  }
  const hosts = hostNames.map((entry, index) => ({ host: entry.host, port: ports[index] as number }));
  const urls = hosts.map((host) => {
    const own = new URLSearchParams(params);
    // A Unix socket directory cannot sit in the authority: pg reads it from `?host=`.
    if (host.host.startsWith("/")) own.set("host", host.host);
    const query = own.toString();
    return `${scheme}${userinfo}${authorityOf(host)}${path}${query === "" ? "" : `?${query}`}`;
  });
  return { urls, hosts, targetSessionAttrs };
}

/** libpq's parameter, which pg would pass to the server as a startup parameter: removed. */
function withoutSessionAttrs(url: string): string {
  return url.replace(/([?&])target_session_attrs=[^&#]*&?/i, "$1").replace(/[?&]$/, "");
}

interface HostEntry {
  readonly host: string;
  readonly port: string | undefined;
}

/** `h1:5432,h2,[::1]:5433` → its entries; a port left out stays undefined (libpq's default applies). */
function splitAuthorityHosts(hostPart: string): HostEntry[] {
  if (hostPart === "") return [];
  return hostPart.split(",").map((entry) => {
    const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
    if (bracketed !== null) return { host: bracketed[1] as string, port: bracketed[2] };
    const colon = entry.lastIndexOf(":");
    return colon === -1
      ? { host: entry, port: undefined }
      : { host: entry.slice(0, colon), port: entry.slice(colon + 1) };
  });
}

function plainHost(host: string): HostEntry {
  return { host: host.trim(), port: undefined };
}

/** Each host's port: its own, else the `port` parameter's (one for all, or one per host), else 5432. */
function assignPorts(
  hosts: readonly HostEntry[],
  queryPorts: readonly string[] | undefined,
  setting: string,
  redacted: string,
): number[] {
  if (queryPorts !== undefined && queryPorts.length !== 1 && queryPorts.length !== hosts.length) {
    throw new ConfigurationError(
      `${setting}?port`,
      `lists ${queryPorts.length} ports for ${hosts.length} hosts: give one port, or one per host, in ${redacted}`,
    );
  }
  return hosts.map((entry, index) => {
    const given = queryPorts === undefined ? entry.port : (queryPorts[queryPorts.length === 1 ? 0 : index] as string);
    if (given === undefined || given.trim() === "") return DEFAULT_PORT;
    const port = Number(given);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigurationError(
        `${setting}?port`,
        `must be a port number (1–65535), got ${JSON.stringify(given)} in ${redacted}`,
      );
    }
    return port;
  });
}

/** `host:port` as a URL authority; a Unix socket's URL says `localhost` and names the socket in `?host=`. */
function authorityOf({ host, port }: HostPort): string {
  if (host.includes(":")) return `[${host}]:${port}`;
  if (host.startsWith("/")) return `localhost:${port}`;
  return `${host}:${port}`;
}

/**
 * The server a host names, for "these two URLs reach the same server": `localhost` and the
 * loopback addresses are one server, names are case-insensitive.
 */
export function serverIdentity(host: string, port: number | string): string {
  const name = host.toLowerCase().replace(/^\[|\]$/g, "");
  const loopback = name === "localhost" || /^127\./.test(name) || name === "::1" || name === "0:0:0:0:0:0:0:1";
  return `${loopback ? "localhost" : name}:${port}`;
}

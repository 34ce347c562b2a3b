import { isPasswordFunctionError } from "../config/password-function.js";
import { type DatabaseConfigurationProblem, isDatabaseUnavailable } from "../errors.js";
import { isUnansweredCommit } from "../pool/connection-reuse.js";

/**
 * What a failure says, decided once per error: the pipeline, the breaker and the 503 mapping all
 * read this one value (`decide()` turns it into an action, `verdictOn()` into what it says about
 * the node).
 *
 * - `node`: the node (or the way to it) is sick: refused, reset or closed connections, connect
 *   timeouts, a server that stopped answering, `57P01/57P02/57P03`, `08xxx`. The only kind that
 *   counts against a breaker.
 * - `query`: the statement's own outcome: constraint, not found, validation, `42xxx`, `22xxx`,
 *   serialization conflicts, and a statement the server ended itself (`57014`: a slow query is
 *   the query's problem, not the node's). Passed on untouched, never retried; `replicaMayLag`
 *   marks the two a replica that has not replayed a migration yet raises (`42P01`, `42703`).
 * - `read-only`: the server is a standby and refused: `25006` (a write), `55000` "recovery is in
 *   progress" (`pg_current_wal_lsn()` ...), `40001` "conflict with recovery" (replay cancelled the
 *   read). On a node chosen as a replica a read runs again on the primary; on the node chosen as
 *   primary, the primary was demoted.
 * - `configuration`: authentication, unknown database, SSL: permanent, never retried. A node's
 *   `password` function that failed is one too (`nodeLocal`): nothing reached the server, and a
 *   read moves on at once to another node, which has its own way to log in.
 * - `overloaded`: no connection: the pool's `pool_timeout` passed, the server refused the login
 *   with `53300` (too many connections), or a transaction could not begin within `maxWait`. Never
 *   sent; load, not sickness.
 * - `refusal`: prisma-split refused the call itself (breaker open, shed, shutting down, deadline).
 */
export type FaultKind = "node" | "query" | "read-only" | "configuration" | "overloaded" | "refusal";

export interface Fault {
  readonly kind: FaultKind;
  /** The statement may have reached the server (and run): a write must not be sent again. */
  readonly maybeSent: boolean;
  /** A short name of what happened, e.g. `sqlstate 57P01`, `pool-acquire-timeout`. */
  readonly label: string;
  /** For `configuration`: what the server refused. */
  readonly problem?: DatabaseConfigurationProblem;
  /** `42P01`/`42703`: a relation or column the primary may have and a lagging replica not yet. */
  readonly replicaMayLag?: true;
  /**
   * A configuration fault of this node's own (its `password` function failed): no connection was
   * opened, the server was not asked, and another node may serve a read.
   */
  readonly nodeLocal?: true;
}

/**
 * What a fault says about the node it happened on: `sick` (counts against its breaker), `alive`
 * (the server answered: a result of its own), or `unknown` (nothing reached it: a busy pool, our
 * own refusal). The one table the breaker, the node's liveness and its streak read.
 */
export function verdictOn(fault: Fault): "sick" | "alive" | "unknown" {
  switch (fault.kind) {
    case "node":
      return "sick";
    case "configuration":
      return fault.nodeLocal === true ? "unknown" : "alive";
    case "query":
    case "read-only":
      return "alive";
    default:
      return "unknown";
  }
}

const fault = (kind: FaultKind, label: string, maybeSent = true): Fault => ({ kind, maybeSent, label });
const node = (label: string, maybeSent = true) => fault("node", label, maybeSent);
const notSent = (label: string) => node(label, false);
const configuration = (problem: DatabaseConfigurationProblem, label: string): Fault => ({
  kind: "configuration",
  maybeSent: false,
  label,
  problem,
});

/** Names of the SQLSTATEs a 503 most often carries, so its message says what happened. */
const SQLSTATE_NAMES: Readonly<Record<string, string>> = {
  "57014": "query canceled (statement_timeout or a cancel request)",
  "57P01": "server shut down the connection (admin_shutdown)",
  "57P02": "server crashed (crash_shutdown)",
  "57P03": "server not accepting connections yet (cannot_connect_now)",
  "53300": "too many connections",
  "25006": "a write reached a read-only standby",
  "42P01": "relation does not exist",
  "42703": "column does not exist",
  "28P01": "password authentication failed",
  "28000": "authorization rejected (role, pg_hba.conf or SSL)",
  "3D000": "database does not exist",
};

function bySqlState(state: string, message: string): Fault {
  const name = SQLSTATE_NAMES[state];
  const label = name === undefined ? `sqlstate ${state}` : `${name}, sqlstate ${state}`;
  // cannot_connect_now answers the startup packet: no statement was sent.
  if (state === "57P03") return notSent(label);
  // too_many_connections too; and the server serves its other connections: load, not sickness.
  if (state === "53300") return fault("overloaded", label, false);
  if (state === "57P01" || state === "57P02" || state === "57P05") return node(label);
  if (state === "57014") return fault("query", label);
  if (state === "25006") return fault("read-only", label);
  // Errors only a standby raises; the same SQLSTATEs on a primary are the query's own.
  if (state === "55000" && /recovery is in progress/i.test(message)) {
    return fault("read-only", `recovery is in progress (the server is a standby), sqlstate ${state}`);
  }
  if (state === "40001" && /conflict with recovery/i.test(message)) {
    return fault("read-only", `canceled by a conflict with recovery (the standby replayed over it), sqlstate ${state}`);
  }
  if (state === "42P01" || state === "42703") return { ...fault("query", label), replicaMayLag: true };
  // pg_hba.conf's "no entry for host ..., no encryption" ("SSL off" before PostgreSQL 17), or its
  // `hostnossl ... reject`: the server takes this role only over TLS.
  if (state === "28000" && /no encryption|SSL off/i.test(message)) {
    return configuration("ssl", `the server refuses this connection without TLS (pg_hba.conf), sqlstate ${state}`);
  }
  if (state === "28P01" || state === "28000") return configuration("authentication", label);
  if (state === "3D000") return configuration("unknown-database", label);
  // PgBouncer answers login problems with 08P01 (protocol_violation) and a message of its own.
  if (state === "08P01") {
    const bouncer = pgbouncerRefusal(message);
    if (bouncer !== undefined)
      return configuration(bouncer, `PgBouncer refused the login (${bouncer}), sqlstate 08P01`);
  }
  if (state.startsWith("08") || state.startsWith("53") || state === "58030") return node(label);
  return fault("query", label);
}

/** What PgBouncer's 08P01 login refusals mean: wrong password, unknown database or user, a startup parameter it does not pass on. */
function pgbouncerRefusal(message: string): DatabaseConfigurationProblem | undefined {
  if (/authentication failed|password authentication|no such user/i.test(message)) return "authentication";
  if (/no such database/i.test(message)) return "unknown-database";
  if (/unsupported startup parameter/i.test(message)) return "startup-parameter";
  if (/SSL required|server does not support SSL/i.test(message)) return "ssl";
  return undefined;
}

/**
 * Prisma's own codes, for faults whose SQLSTATE it did not keep (they moved between 7.x
 * releases), and prisma-split's own for a call of a node found hung (never sent).
 */
const PRISMA_CODES: Readonly<Record<string, Fault>> = {
  PRISMA_SPLIT_NODE_SILENT: notSent("the node stopped answering"),
  P1000: configuration("authentication", "P1000 authentication failed"),
  P1001: notSent("P1001 unreachable"),
  P1002: node("P1002 timed out"),
  P1003: configuration("unknown-database", "P1003 database does not exist"),
  P1008: node("P1008 operation timed out"),
  P1010: configuration("authentication", "P1010 access denied"),
  P1011: configuration("ssl", "P1011 TLS error"),
  P1017: node("P1017 server closed the connection"),
  P2024: fault("overloaded", "P2024 pool timeout", false),
  P2037: fault("overloaded", "P2037 too many connections", false),
};

/** Error kinds of @prisma/adapter-pg's DriverAdapterError that carry no SQLSTATE. */
const ADAPTER_KINDS: Readonly<Record<string, Fault>> = {
  DatabaseNotReachable: notSent("unreachable"),
  ConnectionClosed: node("connection-closed"),
  SocketTimeout: node("socket-timeout"),
  TooManyConnections: fault("overloaded", "too-many-connections", false),
  TlsConnectionError: configuration("ssl", "TLS connection failed"),
  AuthenticationFailed: configuration("authentication", "authentication failed"),
  DatabaseAccessDenied: configuration("authentication", "access denied"),
  DatabaseDoesNotExist: configuration("unknown-database", "database does not exist"),
};

/** TLS certificate errors of node:tls: the server's certificate is not one this client trusts. */
const CERTIFICATE_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** Socket errnos (node:net) and TLS codes. */
function byErrno(code: string, syscall: unknown): Fault | undefined {
  if (CERTIFICATE_CODES.has(code)) return configuration("ssl", `certificate ${code}`);
  switch (code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EAI_AGAIN":
      return notSent(code.toLowerCase());
    case "ETIMEDOUT":
      return node("timeout", syscall !== "connect");
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return node(code.toLowerCase());
    default:
      return undefined;
  }
}

/** The label of a call that waited `pool_timeout` for a connection and got none. */
export const POOL_ACQUIRE_TIMEOUT = "pool-acquire-timeout";

/** The label of a transaction whose COMMIT was sent and not answered: it may have committed. */
export const UNANSWERED_COMMIT = "COMMIT not answered";

/**
 * Messages of plain Errors without a code: pg-pool's acquisition timeout, pg's connect timeout,
 * a socket closed under a query, pg's client-side read timeout. Most specific first.
 */
const MESSAGES: ReadonlyArray<readonly [RegExp, Fault]> = [
  [/timeout exceeded when trying to connect/i, fault("overloaded", POOL_ACQUIRE_TIMEOUT, false)],
  [/Connection terminated due to connection timeout/i, notSent("connect-timeout")],
  [/^timeout expired$/i, notSent("connect-timeout")],
  [/does not support SSL|error establishing an SSL connection/i, configuration("ssl", "ssl refused")],
  [/is not queryable|Cannot use a pool after calling end/i, notSent("client-closed")],
  [/Connection terminated|server closed the connection unexpectedly/i, node("connection-terminated")],
  // pg's query_timeout, set past statement_timeout: the server did not answer at all (black hole).
  [/Query read timeout/i, node("no answer (query read timeout)")],
  [/Can't reach database server/i, notSent("unreachable")],
  // Prisma's P2028 when `maxWait` passed before the transaction began: no connection came free,
  // or the server did not answer BEGIN. Nothing of the transaction ran.
  [
    /Unable to start a transaction in the given time/i,
    fault(
      "overloaded",
      "no transaction could begin within maxWait (no connection came free, or BEGIN went unanswered)",
      false,
    ),
  ],
];

export type Shape = Record<string, unknown>;

/** The error, then what it wraps: Prisma's `meta.driverAdapterError`, `cause`s. Outermost first. */
export function chainOf(error: unknown): Shape[] {
  const chain: Shape[] = [];
  const pending: unknown[] = [error];
  while (pending.length > 0 && chain.length < 8) {
    const next = pending.shift();
    if (next === null || typeof next !== "object" || chain.includes(next as Shape)) continue;
    const shape = next as Shape;
    chain.push(shape);
    const meta = shape.meta as Shape | undefined;
    if (meta !== null && typeof meta === "object") pending.push(meta.driverAdapterError);
    pending.push(shape.cause);
  }
  return chain;
}

/** A SQLSTATE, where pg or the adapter kept one (`code` on pg's error, `originalCode` on the adapter's). */
function sqlStateOf(shape: Shape): string | undefined {
  const candidates = [shape.originalCode, shape.kind === "postgres" || "severity" in shape ? shape.code : undefined];
  for (const candidate of candidates) {
    if (typeof candidate === "string" && /^[0-9A-Z]{5}$/.test(candidate)) return candidate;
  }
  return undefined;
}

/** Every message of the chain, the adapter's `originalMessage` (the server's own words) included. */
export function messageOf(chain: readonly Shape[]): string {
  return chain
    .flatMap((shape) => [shape.message, shape.originalMessage, shape.reason])
    .filter((text): text is string => typeof text === "string" && text !== "")
    .join(" ");
}

/**
 * Classifies a failure: SQLSTATE first, then Prisma's code, then the adapter's error kind,
 * then the driver's errno and message. Anything unknown is the query's own outcome (never
 * retried, never counted against a node).
 *
 * @example
 * const fault = classifyFault(error);
 * if (fault.kind === "node" && (isRead || !fault.maybeSent)) retry();
 */
export function classifyFault(error: unknown): Fault {
  if (isDatabaseUnavailable(error)) return fault("refusal", error.reason, false);
  const chain = chainOf(error);
  if (chain.some(isUnansweredCommit)) return node(UNANSWERED_COMMIT);
  const password = chain.find((shape) => isPasswordFunctionError(shape));
  if (password !== undefined) {
    return { ...configuration("password-function", String(password.message)), nodeLocal: true };
  }
  for (const shape of chain) {
    const state = sqlStateOf(shape);
    if (state !== undefined) return bySqlState(state, messageOf(chain));
  }
  for (const shape of chain) {
    const known = typeof shape.code === "string" ? PRISMA_CODES[shape.code] : undefined;
    if (known !== undefined) return known;
  }
  for (const shape of chain) {
    const known = typeof shape.kind === "string" ? ADAPTER_KINDS[shape.kind] : undefined;
    if (known !== undefined) return known;
  }
  for (const shape of chain) {
    const known = typeof shape.code === "string" ? byErrno(shape.code, shape.syscall) : undefined;
    if (known !== undefined) return known;
    if (typeof shape.message === "string") {
      const match = MESSAGES.find(([pattern]) => pattern.test(shape.message as string));
      if (match !== undefined) return match[1];
    }
  }
  return fault("query", typeof (error as Shape | null)?.code === "string" ? String((error as Shape).code) : "unknown");
}

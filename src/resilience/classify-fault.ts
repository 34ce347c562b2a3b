import { isDatabaseUnavailable } from "../errors.js";

/**
 * What a failure means for the node and for the call. The ONE place that says what is
 * transient: the breaker, the retry loop and the 503 mapping all ask this function.
 *
 * - `infrastructure`: the node (or the way to it) failed: refused, reset or closed connections,
 *   timeouts, pool-acquire timeouts, `57P01/57P02/57P03`, `53xxx`, `08xxx`, a write that reached
 *   a standby (`25006`). Counts against the node's breaker.
 * - `query`: the statement itself failed (constraint, not found, validation, `42xxx`, auth,
 *   serialization conflicts). Never trips a breaker, never retried, passed on untouched.
 * - `refusal`: prisma-split refused the call itself (breaker open, bulkhead full, shutting
 *   down). Never retried, never counted.
 */
export type FaultKind = "infrastructure" | "query" | "refusal";

export interface Fault {
  readonly kind: FaultKind;
  /** Whether a read may be run again (here or on another node). */
  readonly retryable: boolean;
  /** The statement provably never reached the server: even a write may be sent again. */
  readonly notSent: boolean;
  /** A short name of what happened, e.g. `sqlstate 57P01`, `pool-acquire-timeout`. */
  readonly label: string;
}

/** The label of a call that waited `pool_timeout` for a connection and got none: the node is overloaded. */
export const POOL_ACQUIRE_TIMEOUT = "pool-acquire-timeout";

const query = (label: string): Fault => ({ kind: "query", retryable: false, notSent: false, label });
const infra = (label: string, notSent = false, retryable = true): Fault => ({
  kind: "infrastructure",
  retryable,
  notSent,
  label,
});

/** Names of the SQLSTATEs a 503 most often carries, so its message says what happened. */
const SQLSTATE_NAMES: Readonly<Record<string, string>> = {
  "57014": "query canceled (statement_timeout or a cancel request)",
  "57P01": "server shut down the connection (admin_shutdown)",
  "57P02": "server crashed (crash_shutdown)",
  "57P03": "server not accepting connections yet (cannot_connect_now)",
  "53300": "too many connections",
  "25006": "a write reached a read-only standby",
};

/** SQLSTATEs of a server that cannot serve, whatever the statement. */
function bySqlState(state: string): Fault {
  const name = SQLSTATE_NAMES[state];
  const label = name === undefined ? `sqlstate ${state}` : `${name}, sqlstate ${state}`;
  // cannot_connect_now and too_many_connections are answers to the startup packet: no statement was sent.
  if (state === "57P03" || state === "53300") return infra(label, true);
  if (state === "57P01" || state === "57P02" || state === "57P05") return infra(label);
  // A statement that ran out of time is as slow on any node: it counts, but re-running it only adds load.
  if (state === "57014") return infra(label, false, false);
  if (state === "25006") return infra(label);
  if (state.startsWith("08") || state.startsWith("53") || state === "58030") return infra(label);
  return query(label);
}

/** Prisma's own codes, for faults whose SQLSTATE it did not keep. They moved between 7.x releases. */
const PRISMA_CODES: Readonly<Record<string, Fault>> = {
  P1001: infra("P1001 unreachable", true),
  P1002: infra("P1002 timed out"),
  P1008: infra("P1008 operation timed out"),
  P1011: infra("P1011 TLS error", true),
  P1017: infra("P1017 server closed the connection"),
  P2024: infra("P2024 pool timeout", true),
  P2037: infra("P2037 too many connections", true),
};

/** Error kinds of @prisma/adapter-pg's DriverAdapterError that carry no SQLSTATE. */
const ADAPTER_KINDS: Readonly<Record<string, Fault>> = {
  DatabaseNotReachable: infra("unreachable", true),
  ConnectionClosed: infra("connection-closed"),
  SocketTimeout: infra("socket-timeout"),
  TooManyConnections: infra("too-many-connections", true),
  TlsConnectionError: infra("tls", true),
};

/** Socket errnos (node:net), and opossum's own codes for a breaker that timed out or refused. */
function byErrno(code: string, syscall: unknown): Fault | undefined {
  switch (code) {
    case "EOPENBREAKER":
    case "ESHUTDOWN":
    case "ESEMLOCKED":
      return { kind: "refusal", retryable: false, notSent: true, label: code.toLowerCase() };
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EAI_AGAIN":
      return infra(code.toLowerCase(), true);
    case "ETIMEDOUT":
      return infra("timeout", syscall === "connect");
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return infra(code.toLowerCase());
    default:
      return undefined;
  }
}

/**
 * Messages of plain Errors without a code: pg-pool's acquisition timeout, pg's connect timeout,
 * a socket closed under a query. Most specific first.
 */
const MESSAGES: ReadonlyArray<readonly [RegExp, Fault]> = [
  [/timeout exceeded when trying to connect/i, infra(POOL_ACQUIRE_TIMEOUT, true)],
  [/Connection terminated due to connection timeout/i, infra("connect-timeout", true)],
  [/^timeout expired$/i, infra("connect-timeout", true)],
  [/is not queryable|Cannot use a pool after calling end/i, infra("client-closed", true)],
  [/Connection terminated|server closed the connection unexpectedly/i, infra("connection-terminated")],
  [/Query read timeout/i, infra("query-read-timeout")],
  [/Can't reach database server/i, infra("unreachable", true)],
];

type Shape = Record<string, unknown>;

/** The error, then what it wraps: Prisma's `meta.driverAdapterError`, `cause`s. Outermost first. */
function chainOf(error: unknown): Shape[] {
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

/**
 * Classifies a failure: SQLSTATE first, then Prisma's code, then the adapter's error kind,
 * then the driver's errno and message. Anything unknown is a query error (never retried).
 *
 * @example
 * const fault = classifyFault(error);
 * if (fault.kind === "infrastructure" && (isRead || fault.notSent)) retry();
 */
export function classifyFault(error: unknown): Fault {
  if (isDatabaseUnavailable(error)) return { kind: "refusal", retryable: false, notSent: true, label: error.reason };
  const chain = chainOf(error);
  for (const shape of chain) {
    const state = sqlStateOf(shape);
    if (state !== undefined) return bySqlState(state);
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
  return query(typeof (error as Shape | null)?.code === "string" ? String((error as Shape).code) : "unknown");
}

/** True when the node, not the statement, failed: what a breaker counts. */
export function isInfrastructureFault(error: unknown): boolean {
  return classifyFault(error).kind === "infrastructure";
}

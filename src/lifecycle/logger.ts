import type { SplitLogger } from "../config/logger-option.js";
import { redactUrl } from "../config/redact.js";
import type { SplitEventMap, SplitEvents } from "../events.js";

type Level = "info" | "warn" | "error";
type Line = { level: Level; fields: Record<string, unknown>; message: string };
type Formatters = { [Name in keyof SplitEventMap]?: (...args: SplitEventMap[Name]) => Line | undefined };

const line = (level: Level, fields: Record<string, unknown>, message: string): Line => ({ level, fields, message });

/**
 * One line per state change, never per query: breakers, replicas leaving and rejoining read
 * rotation, role mismatches, the pool check, shutdown. Errors are shown by name, code and message
 * with any connection string in them redacted.
 */
const FORMATTERS: Formatters = {
  "breaker:open": (e) =>
    line("warn", { node: e.node, role: e.role }, `${e.node}: circuit breaker open, its calls fail fast`),
  "breaker:halfOpen": (e) =>
    line("info", { node: e.node, role: e.role }, `${e.node}: circuit breaker half-open, one trial call`),
  "breaker:close": (e) => line("info", { node: e.node, role: e.role }, `${e.node}: circuit breaker closed`),
  "replica:down": (e) =>
    line("warn", { node: e.node, error: describeError(e.error) }, `${e.node}: out of read rotation, not answering`),
  "replica:lagging": (e) =>
    line(
      "warn",
      { node: e.node, lagMs: e.lagMs, lagBytes: e.lagBytes },
      `${e.node}: out of read rotation, replication lag over the bound`,
    ),
  "replica:up": (e) =>
    line("info", { node: e.node, lagMs: e.lagMs, lagBytes: e.lagBytes }, `${e.node}: back in read rotation`),
  "role:mismatch": (e) => line("error", { node: e.node, role: e.role, actual: e.actual }, scrub(e.message)),
  "pool:oversubscribed": (e) =>
    line("warn", { server: e.server, nodes: e.nodes, planned: e.planned, budget: e.budget }, scrub(e.message)),
  "shutdown:start": (e) =>
    e.trigger === "disconnect" ? undefined : line("info", { trigger: e.trigger }, `shutting down (${e.trigger})`),
  "shutdown:servers": (e) =>
    line(
      e.destroyed === 0 ? "info" : "warn",
      {
        trigger: e.trigger,
        inFlight: e.inFlight,
        idleClosed: e.idleClosed,
        refused: e.refused,
        destroyed: e.destroyed,
        durationMs: Math.round(e.durationMs),
      },
      e.destroyed === 0
        ? "HTTP servers closed: every request they had taken was answered"
        : `HTTP servers closed: ${e.destroyed} connection(s) still open at the drain timeout were destroyed`,
    ),
  "shutdown:done": (e) =>
    line(
      e.drained && e.error === undefined ? "info" : "warn",
      {
        trigger: e.trigger,
        drained: e.drained,
        cancelled: e.cancelled,
        durationMs: Math.round(e.durationMs),
        ...(e.error === undefined ? {} : { error: describeError(e.error) }),
      },
      e.trigger === "disconnect" ? "disconnected: clients and pools closed" : "shut down: clients and pools closed",
    ),
};

/**
 * Writes prisma-split's state changes to `logger` for as long as `events` lives.
 *
 * @example
 * import pino from "pino";
 * const db = createDb({ PrismaClient, logger: pino() });
 * // {"level":40,"component":"prisma-split","node":"primary","role":"primary","msg":"primary: circuit breaker open, its calls fail fast"}
 */
export function attachLogger(events: SplitEvents, logger: SplitLogger): () => void {
  const target = typeof logger.child === "function" ? logger.child({ component: "prisma-split" }) : logger;
  const removers = Object.entries(FORMATTERS).map(([name, format]) =>
    events.on(name as keyof SplitEventMap, (...args: unknown[]) => {
      const written = (format as (...a: unknown[]) => Line | undefined)(...args);
      if (written === undefined) return;
      try {
        target[written.level](written.fields, written.message);
      } catch {
        // A failing logger must not fail the transition it reports.
      }
    }),
  );
  return () => {
    for (const remove of removers) remove();
  };
}

/** What a logger may offer to write out what it buffered (pino's `logger.flush(cb)`). */
export interface FlushableLogger {
  flush?(callback?: (error?: Error) => void): void;
}

/**
 * Asks `logger` to write out what it buffered, if it can (pino: `flush(cb)`), and resolves when
 * it says it has, or after `timeoutMs`: a logger must not keep a shutdown from ending.
 * (pino's `pino.destination({ sync: false })` writes its last bytes on the process's `exit`
 * event, which the signal handling lets run before the process ends.)
 */
export function flushLogger(logger: FlushableLogger | undefined, timeoutMs: number): Promise<void> {
  if (typeof logger?.flush !== "function") return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      logger.flush?.(done);
    } catch {
      done();
    }
  });
}

/** Name, code and message only (under `error`, not pino's `err`, whose serializer wants an Error): a driver error may carry a connection's parameters. */
export function describeError(error: unknown): Record<string, unknown> | undefined {
  if (error === undefined || error === null) return undefined;
  if (!(error instanceof Error)) return { message: scrub(String(error)) };
  const code = (error as { code?: unknown }).code;
  return { type: error.name, ...(code === undefined ? {} : { code }), message: scrub(error.message) };
}

const URL_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+/g;
const PASSWORD_PARAMETER = /(password\s*=\s*)\S+/gi;

/** Any connection string in `text`, redacted, and `password=...` too. */
export function scrub(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url)).replace(PASSWORD_PARAMETER, "$1***");
}

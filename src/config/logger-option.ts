import { ConfigurationError } from "../errors.js";
import { show } from "./validate.js";

/**
 * What prisma-split needs of a logger: pino's (and bunyan's, winston's with a format) calling
 * convention, `logger.warn({ ...fields }, "message")`. `child` is used when present, so every
 * line carries `{ component: "prisma-split" }`; `flush` (pino's) at the end of the final
 * shutdown, so the last lines are written before the process ends.
 */
export interface SplitLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  child?(bindings: Record<string, unknown>): SplitLogger;
  flush?(callback?: (error?: Error) => void): void;
}

/** `logger` as given: undefined, or something with `info`, `warn` and `error` functions (pino, bunyan, console-like). */
export function readLogger(value: unknown): SplitLogger | undefined {
  if (value === undefined) return undefined;
  const candidate = value as Record<string, unknown> | null;
  const missing = ["info", "warn", "error"].filter(
    (level) => typeof candidate !== "object" || candidate === null || typeof candidate[level] !== "function",
  );
  if (missing.length > 0) {
    throw new ConfigurationError(
      "logger",
      `must be a pino-compatible logger with info(), warn() and error(); ${missing.join(", ")} missing in ${show(value)}`,
    );
  }
  return value as SplitLogger;
}

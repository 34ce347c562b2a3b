import { describe, expect, it } from "vitest";
import { readLogger } from "../../src/config/logger-option.ts";
import { SplitEvents } from "../../src/events.ts";
import { attachLogger, scrub } from "../../src/lifecycle/logger.ts";

function recorder() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const bindings: Record<string, unknown>[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  const logger = {
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child(given: Record<string, unknown>) {
      bindings.push(given);
      return logger;
    },
  };
  return { logger, lines, bindings };
}

describe("logger", () => {
  it("one line per state change, none per query, retry or fallback, under a child logger", () => {
    const events = new SplitEvents();
    const { logger, lines, bindings } = recorder();
    attachLogger(events, logger);
    expect(bindings).toEqual([{ component: "prisma-split" }]);
    events.emit("breaker:open", { role: "primary", node: "primary" });
    for (let i = 0; i < 100; i++) {
      events.emit("query", {
        role: "replica",
        node: "replica-0",
        operation: "findMany",
        model: "user",
        reason: "read",
        durationMs: 1,
        error: undefined,
      });
      events.emit("retry", { role: "primary", node: "primary", attempt: 1, error: new Error("x") });
      events.emit("fallback", { reason: "down" });
    }
    events.emit("breaker:halfOpen", { role: "primary", node: "primary" });
    events.emit("breaker:close", { role: "primary", node: "primary" });
    events.emit("replica:down", {
      role: "replica",
      node: "replica-0",
      lagMs: undefined,
      lagBytes: undefined,
      error: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5433"), { code: "ECONNREFUSED" }),
    });
    events.emit("replica:up", { role: "replica", node: "replica-0", lagMs: 3, lagBytes: 0 });
    events.emit("shutdown:start", { trigger: "SIGTERM" });
    events.emit("shutdown:done", {
      trigger: "SIGTERM",
      drained: true,
      cancelled: 0,
      durationMs: 12.3,
      error: undefined,
    });
    expect(lines.map(({ level, message }) => `${level} ${message}`)).toEqual([
      "warn primary: circuit breaker open, its calls fail fast",
      "info primary: circuit breaker half-open, one trial call",
      "info primary: circuit breaker closed",
      "warn replica-0: out of read rotation, not answering",
      "info replica-0: back in read rotation",
      "info shutting down (SIGTERM)",
      "info shut down: clients and pools closed",
    ]);
    expect(lines[3]?.fields).toEqual({
      node: "replica-0",
      error: { type: "Error", code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:5433" },
    });
  });

  it("never writes a password, wherever it hides in a message", () => {
    expect(scrub("refused postgresql://app:s3cret@db:5432/app and host=db password=s3cret")).toBe(
      "refused postgresql://app:***@db:5432/app and host=db password=***",
    );
    const events = new SplitEvents();
    const { logger, lines } = recorder();
    attachLogger(events, logger);
    events.emit("role:mismatch", {
      role: "replica",
      node: "replica-0",
      actual: "primary",
      message: "replica-0 (postgresql://app:s3cret@db/app) is not in recovery",
    });
    expect(JSON.stringify(lines)).not.toContain("s3cret");
  });

  it("a throwing logger does not break the transition it reports", () => {
    const events = new SplitEvents();
    const boom = () => {
      throw new Error("disk full");
    };
    attachLogger(events, { info: boom, warn: boom, error: boom });
    expect(() => events.emit("breaker:open", { role: "primary", node: "primary" })).not.toThrow();
  });

  it("refuses something that is not a logger, naming what is missing", () => {
    expect(readLogger(undefined)).toBeUndefined();
    expect(() => readLogger({ info() {}, warn() {} })).toThrow(
      /^prisma-split: logger: must be a pino-compatible logger.*error missing/,
    );
    expect(() => readLogger("pino")).toThrow(/info, warn, error missing/);
  });
});

import { describe, expect, it } from "vitest";
import { bearerTokenCheck } from "../../src/http/bearer-token.ts";
import { healthHandlers } from "../../src/http/health.ts";
import { advise, BUSY_FOR_MS, LONG_TRANSACTION_MS } from "../../src/lifecycle/diagnostics.ts";
import { PoolPressure } from "../../src/lifecycle/pool-pressure.ts";
import type { ServerActivity } from "../../src/lifecycle/server-activity.ts";
import { configRefusal } from "./config-refusal.ts";

const TOKEN = "0123456789abcdef-secret";

const server = (role: Partial<ServerActivity["role"]> = {}, connections = 10): ServerActivity => ({
  serverVersion: "18.1",
  maxConnections: 100,
  connections,
  role: {
    name: "app",
    total: 4,
    active: 1,
    idle: 3,
    idleInTransaction: 0,
    waitingOnLock: 0,
    longestTransactionMs: 0,
    ...role,
  },
});

type Input = Parameters<typeof advise>[0][number];
const healthy: Input = {
  name: "primary",
  role: "primary",
  url: "postgresql://app:***@db:5432/app",
  reachable: true,
  error: undefined,
  breaker: "closed",
  outOfRotation: [],
  lagMs: undefined,
  pool: { size: 2, max: 10, idle: 1, inUse: 1, waiting: 0, busyForMs: 0 },
  server: server(),
  connections: undefined,
};
const plan = {
  maxConnections: 100,
  reserved: 10,
  budget: 90,
  instances: 8,
  perInstance: 20,
  planned: 160,
  fits: false,
  recommendedConnectionLimit: 5,
};

describe("advice: which threshold says what", () => {
  it.each<[string, Partial<Input>, string | undefined, string | undefined]>([
    ["a healthy node", {}, undefined, undefined],
    [
      "a primary that does not answer",
      { reachable: false, error: "connect ECONNREFUSED", server: undefined },
      "node-down",
      "writes get 503 with Retry-After",
    ],
    [
      "a replica that does not answer",
      { name: "replica-0", role: "replica", reachable: false, error: "timeout", server: undefined },
      "node-down",
      "its reads go to the other replicas or the primary",
    ],
    [
      "a probe stuck behind a full pool while the server answers",
      {
        reachable: false,
        error: "no answer within 2000 ms",
        pool: { size: 2, max: 2, idle: 0, inUse: 2, waiting: 1, busyForMs: 0 },
      },
      "pool-waiting",
      "1 query waits for a connection on primary (2 of connection_limit=2 in use)",
    ],
    ["an open breaker", { breaker: "open" }, "breaker-open", "fail fast until its trial call succeeds"],
    ["a half-open breaker", { breaker: "halfOpen" }, undefined, undefined],
    [
      "a lagging replica",
      { name: "replica-1", role: "replica", outOfRotation: ["lagging"], lagMs: 12_300 },
      "replica-lagging",
      "replica-1 lags more than replicas.maxLagMs (12.3 s behind)",
    ],
    [
      "queries waiting for a connection",
      {
        pool: { size: 10, max: 10, idle: 0, inUse: 10, waiting: 3, busyForMs: 2_000 },
        server: server({ longestTransactionMs: 4_500 }),
      },
      "pool-waiting",
      "3 queries wait for a connection on primary (10 of connection_limit=10 in use; the oldest open transaction of role app is 4.5 s old)",
    ],
    [
      "a pool busy for a while",
      { pool: { size: 10, max: 10, idle: 2, inUse: 8, waiting: 0, busyForMs: BUSY_FOR_MS } },
      "pool-busy",
      "at least 75 % of its 10 connections in use for 10.0 s",
    ],
    [
      "a pool busy a moment",
      { pool: { size: 10, max: 10, idle: 2, inUse: 8, waiting: 0, busyForMs: BUSY_FOR_MS - 1 } },
      undefined,
      undefined,
    ],
    [
      "pools that together exceed max_connections",
      { connections: plan },
      "connections-exceed-max",
      "8 instance(s) × 20 connections = 160 to primary's server, more than its max_connections 100 − 10 reserved",
    ],
    ["pools that fit", { connections: { ...plan, fits: true, planned: 80 } }, undefined, undefined],
    [
      "a server close to full",
      { server: server({}, 90) },
      "server-connections-high",
      "90 of max_connections 100 taken",
    ],
    [
      "a long transaction",
      { server: server({ longestTransactionMs: LONG_TRANSACTION_MS }) },
      "long-transaction",
      "has been open 60.0 s",
    ],
  ])("%s", (_case, change, code, words) => {
    const advice = advise([{ ...healthy, ...change }]);
    expect(advice.map((entry) => entry.code)).toEqual(code === undefined ? [] : [code]);
    if (words !== undefined) expect(advice[0]?.message).toContain(words);
  });

  it("says a server's budget once for the nodes that share it, and never shows a password", () => {
    const advice = advise([
      { ...healthy, connections: plan },
      { ...healthy, name: "replica-0", role: "replica", connections: plan },
    ]);
    expect(advice.map((entry) => entry.code)).toEqual(["connections-exceed-max"]);
    expect(JSON.stringify(advice)).not.toContain("***");
  });
});

describe("pool pressure", () => {
  it("counts a busy spell from its first reading at 75 % of max, and one reading below ends it", () => {
    const pressure = new PoolPressure();
    pressure.record("primary", { inUse: 7, max: 10 }, 0);
    expect(pressure.busyForMs("primary", 1_000)).toBe(0);
    pressure.record("primary", { inUse: 8, max: 10 }, 1_000);
    pressure.record("primary", { inUse: 10, max: 10 }, 2_000);
    expect(pressure.busyForMs("primary", 12_000)).toBe(11_000);
    pressure.record("primary", { inUse: 2, max: 10 }, 13_000);
    expect(pressure.busyForMs("primary", 14_000)).toBe(0);
    pressure.record("primary", { inUse: 0, max: 0 }, 15_000);
    expect(pressure.busyForMs("primary", 16_000)).toBe(0);
  });
});

describe("the diagnostics endpoint's token", () => {
  const check = bearerTokenCheck(TOKEN);
  it.each<[string, Record<string, string> | undefined, boolean]>([
    ["the token", { authorization: `Bearer ${TOKEN}` }, true],
    ["the scheme in other case", { authorization: `bearer ${TOKEN}` }, true],
    ["no header", {}, false],
    ["no headers at all", undefined, false],
    ["another token of the same length", { authorization: `Bearer ${TOKEN.replace("0", "1")}` }, false],
    ["a prefix of the token", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, false],
    ["the token as Basic", { authorization: `Basic ${TOKEN}` }, false],
    ["the token with more after it", { authorization: `Bearer ${TOKEN} x` }, false],
  ])("%s", (_case, headers, accepted) => {
    expect(check(headers)).toBe(accepted);
  });

  it.each([
    [
      { diagnosticsToken: "short" },
      "must be at least 16 characters without spaces, commas or quotes (got 5 characters",
    ],
    [{ diagnosticsToken: 1234567890123456 }, "must be a string (a secret of 16+ characters), got a number"],
    [{ diagnosticsToken: "has a space in the middle" }, "(got 25 characters"],
    [{ diagnosticsPath: "diag" }, 'must be a path starting with /, got "diag"'],
  ])("refuses %o, naming the setting, never the token", (options, message) => {
    const error = configRefusal(() =>
      healthHandlers({ $health: never, $ready: never, $diagnostics: never }, options as never),
    );
    expect(error.setting).toBe(`healthHandlers.${Object.keys(options)[0]}`);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain("short");
    expect(error.message).not.toContain("middle");
  });

  it("without a token there is no endpoint: handle() passes the path on, the handler answers 404", async () => {
    const health = healthHandlers({ $health: never, $ready: never, $diagnostics: never });
    expect(health.handle({ method: "GET", url: "/health/diagnostics" }, {})).toBe(false);
    const answer = { statusCode: 0, headers: {} as Record<string, string>, body: "" };
    await health.diagnostics(
      { headers: { authorization: `Bearer ${TOKEN}` } },
      {
        set statusCode(code: number) {
          answer.statusCode = code;
        },
        setHeader: (name: string, value: string) => {
          answer.headers[name] = value;
        },
        end: (body: string) => {
          answer.body = body;
        },
      },
    );
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({ status: "not-found" });
  });

  it("needs a client with $diagnostics()", () => {
    const error = configRefusal(() => healthHandlers({ $health: never, $ready: never }, { diagnosticsToken: TOKEN }));
    expect(error.setting).toBe("healthHandlers.diagnosticsToken");
  });
});

function never(): Promise<never> {
  return Promise.reject(new Error("not called"));
}

import { describe, expect, it } from "vitest";
import type { CreateDbOptions } from "../../src/config/options.ts";
import { resolveConfig } from "../../src/config/resolve-config.ts";
import { MAX_POOL_SIZE } from "../../src/config/schema.ts";
import { MAX_TIMER_MS } from "../../src/config/validate.ts";
import { describeOversubscription, planConnections } from "../../src/lifecycle/pool-sizing.ts";
import { configRefusal } from "./config-refusal.ts";

class FakeClientClass {}
const PrismaClient = FakeClientClass as unknown as CreateDbOptions<unknown>["PrismaClient"];
const primaryUrl = "postgresql://app:hunter2@primary.db/app?connection_limit=10";
const replicaUrls = ["postgresql://app:hunter2@replica.db/app?connection_limit=4"];

const resolve = (options: Partial<CreateDbOptions<unknown>>) =>
  resolveConfig({ PrismaClient, primaryUrl, replicaUrls, ...options } as CreateDbOptions<unknown>, {});

describe("pool settings are refused when no pool could work with them (issue 24)", () => {
  it.each([
    [{ pool: { max: -1 } }, "pool.max", `must be an integer from 1 to ${MAX_POOL_SIZE}, got -1`],
    [{ pool: { max: 0 } }, "pool.max", "got 0"],
    [{ pool: { max: 2.5 } }, "pool.max", "must be an integer from 1 to 262143, got 2.5"],
    [{ pool: { max: "10" } }, "pool.max", 'got "10"'],
    [{ pool: { max: MAX_POOL_SIZE + 1 } }, "pool.max", "got 262144"],
    [{ pool: () => ({ max: 0 }) }, "pool(primary).max", "must be an integer from 1 to 262143, got 0"],
    [
      { pool: ({ role }: { role: string }) => (role === "replica" ? { max: Number.NaN } : undefined) },
      "pool(replica-0).max",
      "got NaN",
    ],
    [
      { pool: { connectionTimeoutMillis: -5 } },
      "pool.connectionTimeoutMillis",
      "must be a number of milliseconds ≥ 0, got -5",
    ],
    [
      { pool: { connectionTimeoutMillis: MAX_TIMER_MS + 1 } },
      "pool.connectionTimeoutMillis",
      `must be at most ${MAX_TIMER_MS} milliseconds (about 24.8 days), got ${MAX_TIMER_MS + 1}`,
    ],
  ])("refuses %o, naming %s", (options, setting, message) => {
    const error = configRefusal(() => resolve(options as Partial<CreateDbOptions<unknown>>));
    expect(error.setting).toBe(setting);
    expect(error.message.startsWith(`prisma-split: ${setting}: must be `)).toBe(true);
    expect(error.message).toContain(message);
  });

  it.each([
    [
      `${primaryUrl.split("?")[0]}?connection_limit=1000000000`,
      "primaryUrl?connection_limit",
      'must be at most 262143 connections (no PostgreSQL server runs more backends), got "1000000000"',
    ],
    [
      `${primaryUrl.split("?")[0]}?pool_timeout=99999999`,
      "primaryUrl?pool_timeout",
      'must be at most 2147483 seconds (about 24.8 days: a timer fires at once after a longer one), got "99999999"',
    ],
    [
      `${primaryUrl.split("?")[0]}?connect_timeout=3000000`,
      "primaryUrl?connect_timeout",
      'must be at most 2147483 seconds (about 24.8 days: a timer fires at once after a longer one), got "3000000"',
    ],
    // Below the bound and garbled values keep Prisma's words.
    [`${primaryUrl.split("?")[0]}?connection_limit=-3`, "primaryUrl?connection_limit", 'a positive integer, got "-3"'],
    [`${primaryUrl.split("?")[0]}?connection_limit=1e12.5`, "primaryUrl?connection_limit", "a positive integer"],
  ])("refuses %s, naming %s, without the password", (url, setting, message) => {
    const error = configRefusal(() => resolve({ primaryUrl: url }));
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(message);
    expect(error.message).toContain("postgresql://app:***@primary.db/app");
    expect(error.message).not.toContain("hunter2");
  });

  it("takes the bounds themselves, and 0 as 'wait forever'", () => {
    const url = `${primaryUrl.split("?")[0]}?connection_limit=${MAX_POOL_SIZE}&pool_timeout=2147483&connect_timeout=0`;
    const { primary } = resolve({ primaryUrl: url }).nodes;
    expect([primary.settings.poolMax, primary.settings.poolTimeoutMs, primary.settings.connectTimeoutMs]).toEqual([
      MAX_POOL_SIZE,
      2_147_483_000,
      0,
    ]);
  });
});

describe("each node's pool size is the one its pool gets", () => {
  it("a pool.max (and connectionTimeoutMillis) of the node wins over connection_limit (pool_timeout)", () => {
    const asked: string[] = [];
    const config = resolve({
      pool: ({ name, role }) => {
        asked.push(name);
        return role === "replica" ? { max: 3, connectionTimeoutMillis: 1500 } : undefined;
      },
    });
    expect(asked).toEqual(["primary", "replica-0"]);
    const [replica] = config.nodes.replicas;
    expect([replica?.settings.poolMax, replica?.settings.poolTimeoutMs]).toEqual([3, 1500]);
    expect(replica?.settings.driver).toEqual({ max: 3, connectionTimeoutMillis: 1500 });
    expect([config.nodes.primary.settings.poolMax, config.nodes.primary.settings.poolTimeoutMs]).toEqual([10, 10_000]);
    // Where the primary may move: the primary URL's hosts only (never a replica URL), at the primary's size.
    expect(config.nodes.candidates.map((candidate) => candidate.poolMax)).toEqual([10]);
  });

  it("an object applies to every node; the URL still gives the rest", () => {
    const config = resolve({ pool: { max: 7 } });
    expect([config.nodes.primary, ...config.nodes.replicas].map((node) => node.settings.poolMax)).toEqual([7, 7]);
    expect(config.nodes.primary.settings.poolTimeoutMs).toBe(10_000);
  });

  it("puts the statement bound on every node's URL (breaker.timeout, or a tighter queryTimeoutMs)", () => {
    const bounds = (config: ReturnType<typeof resolve>) =>
      [config.nodes.primary, ...config.nodes.replicas].map((node) => {
        const params = new URL(node.settings.connectionString).searchParams;
        return [params.get("statement_timeout"), params.get("query_timeout")];
      });
    expect(bounds(resolve({}))).toEqual([
      ["10000", "11000"],
      ["10000", "11000"],
    ]);
    expect(bounds(resolve({ queryTimeoutMs: 3000 }))[0]).toEqual(["3000", "4000"]);
    expect(bounds(resolve({ breaker: false }))[0]).toEqual([null, null]);
  });
});

describe("describeOversubscription", () => {
  it("says what doctor and the pool check both say: the pools, the budget and a size that fits", () => {
    const plan = planConnections({ maxConnections: 100, reserved: 10, instances: 12, connectionLimits: [10] });
    expect(describeOversubscription("db:5432", ["primary"], plan)).toBe(
      "primary: 12 instance(s) x 10 connections = 120 exceeds max_connections 100 - 10 reserved = 90 on db:5432; " +
        "use connection_limit=7 (or pool.max), fewer instances, or PgBouncer",
    );
  });
});

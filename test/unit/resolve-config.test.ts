import { describe, expect, it } from "vitest";
import type { CreateDbOptions } from "../../src/config/options.ts";
import { resolveConfig } from "../../src/config/resolve-config.ts";
import { configRefusal } from "./config-refusal.ts";

class FakeClientClass {}
const PrismaClient = FakeClientClass as unknown as CreateDbOptions<unknown>["PrismaClient"];
const primaryUrl = "postgresql://app:hunter2@primary.db/app";

function refusal(options: unknown, env: NodeJS.ProcessEnv = {}): { setting: string; message: string } {
  return configRefusal(() => resolveConfig(options as CreateDbOptions<unknown>, env));
}

describe("resolveConfig", () => {
  it("reads DATABASE_URL and the comma-separated DATABASE_REPLICA_URLS by default", () => {
    const config = resolveConfig({ PrismaClient } as CreateDbOptions<unknown>, {
      DATABASE_URL: primaryUrl,
      DATABASE_REPLICA_URLS: " postgresql://r1.db/app , postgresql://r2.db/app,",
    });
    expect(config.primary.identity).toBe("primary.db:5432/app?app");
    expect(config.replicas.map((replica) => replica.identity)).toEqual(["r1.db:5432/app?", "r2.db:5432/app?"]);
    expect(config.fallbackToPrimary).toBe(true);
  });

  it("runs on the primary alone when no replica is given", () => {
    expect(resolveConfig({ PrismaClient, primaryUrl }, {}).replicas).toEqual([]);
    expect(
      resolveConfig({ PrismaClient, primaryUrl, replicaUrls: [] }, { DATABASE_REPLICA_URLS: "postgresql://r/app" })
        .replicas,
    ).toEqual([]);
    expect(resolveConfig({ PrismaClient, primaryUrl }, { DATABASE_REPLICA_URLS: "" }).replicas).toEqual([]);
  });

  it.each([
    ["no options", undefined, "options", /createDb\(\) takes an options object/],
    ["a missing PrismaClient", { primaryUrl }, "PrismaClient", /is required/],
    ["a PrismaClient that is not a class", { PrismaClient: {}, primaryUrl }, "PrismaClient", /is required/],
    ["no primary URL", { PrismaClient }, "primaryUrl", /pass `primaryUrl` or set DATABASE_URL/],
    [
      "a garbled primary URL",
      { PrismaClient, primaryUrl: "postgresql//app:hunter2@db" },
      "primaryUrl",
      /not a valid URL/,
    ],
    [
      "a non-postgres scheme",
      { PrismaClient, primaryUrl: "mysql://app:hunter2@db/app" },
      "primaryUrl",
      /postgresql:\/\/ scheme/,
    ],
    [
      "connection_limit=0",
      { PrismaClient, primaryUrl: `${primaryUrl}?connection_limit=0` },
      "primaryUrl?connection_limit",
      /positive integer/,
    ],
    [
      "a bad pool_timeout on a replica",
      { PrismaClient, primaryUrl, replicaUrls: ["postgresql://r/app", "postgresql://u:hunter2@r2/app?pool_timeout=x"] },
      "replicaUrls[1]?pool_timeout",
      /non-negative number/,
    ],
    [
      "an unknown strategy",
      { PrismaClient, primaryUrl, replicas: { select: "quickest" } },
      "replicas.select",
      /"round-robin", "random", "least-busy", "fastest" or a function, got "quickest"/,
    ],
    [
      "a replica URL equal to the primary URL",
      { PrismaClient, primaryUrl, replicaUrls: ["postgresql://app:other@primary.db:5432/app?connection_limit=3"] },
      "replicaUrls[0]",
      /same server and database as the primary URL/,
    ],
    [
      "the same replica twice",
      { PrismaClient, primaryUrl, replicaUrls: ["postgresql://r/app", "postgresql://r:5432/app"] },
      "replicaUrls[1]",
      /same server and database as replicaUrls\[0\]/,
    ],
    [
      "replicaUrls of the wrong type",
      { PrismaClient, primaryUrl, replicaUrls: 5 },
      "replicaUrls",
      /array of connection strings/,
    ],
    [
      "an adapter in clientOptions",
      { PrismaClient, primaryUrl, clientOptions: { adapter: {} } },
      "clientOptions.adapter",
      /set by prisma-split/,
    ],
    [
      "a non-boolean fallbackToPrimary",
      { PrismaClient, primaryUrl, replicas: { fallbackToPrimary: "yes" } },
      "replicas.fallbackToPrimary",
      /true or false/,
    ],
    [
      "a poll interval under 10 ms",
      { PrismaClient, primaryUrl, replicas: { pollIntervalMs: 5 } },
      "replicas.pollIntervalMs",
      /must be a number of milliseconds ≥ 10, or false to turn it off; got 5/,
    ],
    ["a negative maxLagMs", { PrismaClient, primaryUrl, replicas: { maxLagMs: -1 } }, "replicas.maxLagMs", /got -1/],
    [
      "a fractional maxLagBytes",
      { PrismaClient, primaryUrl, replicas: { maxLagBytes: 1.5 } },
      "replicas.maxLagBytes",
      /must be an integer ≥ 1/,
    ],
    ["a non-boolean strict", { PrismaClient, primaryUrl, replicas: { strict: 1 } }, "replicas.strict", /true or false/],
    [
      "an unknown readYourWrites mode",
      { PrismaClient, primaryUrl, consistency: { readYourWrites: "strong" } },
      "consistency.readYourWrites",
      /"off", "session", "lsn", got "strong"/,
    ],
    [
      "lsn without the monitor",
      { PrismaClient, primaryUrl, replicas: { pollIntervalMs: false }, consistency: { readYourWrites: "lsn" } },
      "consistency.readYourWrites",
      /"lsn" needs the replica monitor/,
    ],
    [
      "a negative stickyMs",
      { PrismaClient, primaryUrl, consistency: { stickyMs: -5 } },
      "consistency.stickyMs",
      /must be a number of milliseconds ≥ 0, got -5/,
    ],
    ["consistency: true", { PrismaClient, primaryUrl, consistency: true }, "consistency", /or false, got true/],
    ["hedge: true", { PrismaClient, primaryUrl, replicas: { hedge: true } }, "replicas.hedge", /or false, got true/],
    [
      "an unknown hedge key",
      { PrismaClient, primaryUrl, replicas: { hedge: { afterMS: 5 } } },
      "replicas.hedge.afterMS",
      /afterMs/,
    ],
    [
      "a hedge delay that is neither a number nor p95",
      { PrismaClient, primaryUrl, replicas: { hedge: { afterMs: "p99" } } },
      "replicas.hedge.afterMs",
      /a number of milliseconds or "p95", got "p99"/,
    ],
    [
      "a hedge delay under 1 ms",
      { PrismaClient, primaryUrl, replicas: { hedge: { afterMs: 0 } } },
      "replicas.hedge.afterMs",
      /≥ 1/,
    ],
    [
      "a hedge budget above 1",
      { PrismaClient, primaryUrl, replicas: { hedge: { maxExtraRatio: 2 } } },
      "replicas.hedge.maxExtraRatio",
      /got 2/,
    ],
  ])("refuses %s", (_case, options, setting, message) => {
    const error = refusal(options);
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("hunter2");
  });

  it("hedging is off by default; {} takes p95 and a 10 % budget; it needs two replicas to race", () => {
    const replicaUrls = ["postgresql://r1.db/app", "postgresql://r2.db/app"];
    expect(resolveConfig({ PrismaClient, primaryUrl, replicaUrls }, {}).hedge).toBeUndefined();
    expect(
      resolveConfig({ PrismaClient, primaryUrl, replicaUrls, replicas: { hedge: false } }, {}).hedge,
    ).toBeUndefined();
    expect(resolveConfig({ PrismaClient, primaryUrl, replicaUrls, replicas: { hedge: {} } }, {}).hedge).toEqual({
      afterMs: "p95",
      maxExtraRatio: 0.1,
    });
    expect(
      resolveConfig(
        { PrismaClient, primaryUrl, replicaUrls, replicas: { hedge: { afterMs: 20, maxExtraRatio: 0.05 } } },
        {},
      ).hedge,
    ).toEqual({ afterMs: 20, maxExtraRatio: 0.05 });
    const oneReplica = { PrismaClient, primaryUrl, replicaUrls: replicaUrls.slice(0, 1), replicas: { hedge: {} } };
    expect(resolveConfig(oneReplica, {}).hedge).toBeUndefined();
  });

  it("defaults the monitor and read-your-writes; false turns each off", () => {
    const replicaUrls = ["postgresql://r1.db/app"];
    const config = resolveConfig({ PrismaClient, primaryUrl, replicaUrls }, {});
    expect(config.monitor).toEqual({
      pollIntervalMs: 1000,
      maxLagMs: 10_000,
      maxLagBytes: undefined,
      strict: true,
      probeTimeoutMs: 2000,
    });
    expect(config.consistency).toEqual({ readYourWrites: "lsn", stickyMs: 2000 });
    const custom = resolveConfig(
      {
        PrismaClient,
        primaryUrl,
        replicaUrls,
        replicas: { pollIntervalMs: 200, maxLagMs: false, maxLagBytes: 16_000_000, strict: true },
        consistency: { readYourWrites: "session", stickyMs: 0 },
      },
      {},
    );
    expect(custom.monitor).toEqual({
      pollIntervalMs: 200,
      maxLagMs: undefined,
      maxLagBytes: 16_000_000,
      strict: true,
      // health.timeoutMs: a probe is bounded by it, whatever the poll interval.
      probeTimeoutMs: 2000,
    });
    expect(custom.consistency).toEqual({ readYourWrites: "session", stickyMs: 0 });
    expect(resolveConfig({ PrismaClient, primaryUrl, consistency: false }, {}).consistency.readYourWrites).toBe("off");
    // Without the monitor, the default mode is the one that does not need it.
    const unmonitored = resolveConfig(
      { PrismaClient, primaryUrl, replicaUrls, replicas: { pollIntervalMs: false } },
      {},
    );
    expect(unmonitored.monitor).toBeUndefined();
    expect(unmonitored.consistency.readYourWrites).toBe("session");
    // Without replicas every read is on the primary already: no context needs recording.
    expect(resolveConfig({ PrismaClient, primaryUrl }, {}).consistency).toEqual({
      readYourWrites: "off",
      stickyMs: 2000,
    });
  });

  it.each([
    [{ replica: {} }, "replica", 'did you mean "replicas"?'],
    [{ primaryURL: primaryUrl }, "primaryURL", 'did you mean "primaryUrl"?'],
    [{ replicas: { maxLagMS: 5 } }, "replicas.maxLagMS", 'did you mean "maxLagMs"?'],
    [{ consistency: { stickyMS: 5 } }, "consistency.stickyMS", 'did you mean "stickyMs"?'],
    [{ shutdown: { signal: ["SIGTERM"] } }, "shutdown.signal", 'did you mean "signals"?'],
    [{ metrics: { prefx: "app_" } }, "metrics.prefx", 'did you mean "prefix"?'],
    [{ health: { timeout: 5 } }, "health.timeout", "known: timeoutMs"],
    [{ poolCheck: { instance: 2 } }, "poolCheck.instance", 'did you mean "instances"?'],
    [{ breaker: { resetTimout: 5 } }, "breaker.resetTimout", 'did you mean "resetTimeout"?'],
    [{ retry: { retry: 1 } }, "retry.retry", 'did you mean "retries"?'],
    [{ retry: { budget: { ration: 0.1 } } }, "retry.budget.ration", 'did you mean "ratio"?'],
    [{ bulkhead: { maxQueued: 5 } }, "bulkhead.maxQueued", 'did you mean "maxQueue"?'],
  ])("refuses the unknown key of %o, naming %s", (extra, setting, message) => {
    const error = refusal({ PrismaClient, primaryUrl, ...extra });
    expect(error.setting).toBe(setting);
    expect(error.message).toContain("is not an option; known: ");
    expect(error.message).toContain(message);
  });

  it("lists every option of createDb() when refusing an unknown one", () => {
    expect(refusal({ PrismaClient, primaryUrl, replica: {} }).message).toBe(
      "prisma-split: replica: is not an option; known: PrismaClient, primaryUrl, replicaUrls, clientOptions, pool, logger, tracing, " +
        "reads, replicas, consistency, breaker, retry, bulkhead, shutdown, metrics, health, poolCheck, queryTimeoutMs; " +
        'did you mean "replicas"?',
    );
  });

  it("refuses a group of the wrong shape, naming it", () => {
    expect(refusal({ PrismaClient, primaryUrl, replicas: false })).toEqual({
      setting: "replicas",
      message:
        "prisma-split: replicas: must be an options object { select, preferZone, zones, fallbackToPrimary, maxLagMs, " +
        "maxLagBytes, pollIntervalMs, strict, hedge }, got false",
    });
    expect(refusal({ PrismaClient, primaryUrl, health: [] }).setting).toBe("health");
    expect(refusal({ PrismaClient, primaryUrl, clientOptions: [] }).setting).toBe("clientOptions");
  });

  it("keeps the default of a key given as undefined", () => {
    const config = resolveConfig(
      { PrismaClient, primaryUrl, replicas: { maxLagMs: undefined, fallbackToPrimary: undefined } },
      {},
    );
    expect(config.monitor?.maxLagMs).toBe(10_000);
    expect(config.fallbackToPrimary).toBe(true);
  });

  it.each([
    [{ primaryUrl: 5 }, "primaryUrl", "must be a postgresql:// connection string, got 5"],
    [{ primaryUrl: null }, "primaryUrl", "got null"],
    [{ primaryUrl: { host: "db", password: "hunter2" } }, "primaryUrl", "got an object"],
    [{ primaryUrl: ["postgresql://db/app"] }, "primaryUrl", "got an array"],
    [{ primaryUrl, replicaUrls: ["postgresql://r/app", 7] }, "replicaUrls[1]", "got 7"],
    [{ primaryUrl, replicaUrls: [null] }, "replicaUrls[0]", "got null"],
    [{ primaryUrl, replicaUrls: null }, "replicaUrls", "comma-separated string, got null"],
    [{ primaryUrl, replicaUrls: { url: "postgresql://r/app" } }, "replicaUrls", "got an object"],
  ])("refuses %o as a URL, naming %s, never with a TypeError", (urls, setting, message) => {
    const error = refusal({ PrismaClient, ...urls }, { DATABASE_URL: primaryUrl });
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain("hunter2");
  });

  it("refuses a DATABASE_URL that is no string (an env object built by hand)", () => {
    expect(refusal({ PrismaClient }, { DATABASE_URL: 5 as never })).toMatchObject({ setting: "DATABASE_URL" });
  });

  it("names DATABASE_URL when the bad URL came from the environment", () => {
    const error = refusal({ PrismaClient }, { DATABASE_URL: "redis://app:hunter2@cache" });
    expect(error.setting).toBe("DATABASE_URL");
    expect(error.message).not.toContain("hunter2");
    const replicaError = refusal({ PrismaClient, primaryUrl }, { DATABASE_REPLICA_URLS: "postgresql://r/app,nope" });
    expect(replicaError.setting).toBe("DATABASE_REPLICA_URLS[1]");
  });
});

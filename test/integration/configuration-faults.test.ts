import { beforeAll, describe, expect, it } from "vitest";
import { isDatabaseConfigurationError, isDatabaseUnavailable } from "../../src/index.ts";
import { splitStateOf } from "../../src/split-state.ts";
import { TcpProxy } from "./chaos/tcp-proxy.ts";
import { useCluster } from "./harness.ts";
import { RESILIENCE_EVENTS, recordEvents, settle, sqlStatesIn } from "./observe.ts";

// DESIGN.md "Failure handling", configuration faults: authentication (28P01/28000), an unknown
// database (3D000), SSL refused or required. They are permanent: surfaced at once as a
// DatabaseConfigurationError naming the cause (never a 503, never retried, never counted against
// a breaker), and the replica monitor backs off on them instead of logging in on every poll.

const PASSWORD = "s3cret-pw";

/** `url` with another database, and a password the trust-auth cluster ignores (to see it kept out of messages). */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  parsed.password = PASSWORD;
  return parsed.toString();
}

function withUser(url: string, user: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = PASSWORD;
  return parsed.toString();
}

/** What every configuration fault has in common, whatever its problem. */
function expectConfigurationFault(error: unknown, expected: Record<string, unknown>, sqlState?: string): void {
  expect(error, String(error)).toMatchObject({
    name: "DatabaseConfigurationError",
    code: "PRISMA_SPLIT_DATABASE_CONFIG",
    ...expected,
  });
  expect(isDatabaseConfigurationError(error)).toBe(true);
  expect(isDatabaseUnavailable(error)).toBe(false);
  expect((error as { status?: number }).status).not.toBe(503);
  expect((error as Error).cause).toBeDefined();
  if (sqlState !== undefined) expect(sqlStatesIn((error as Error).cause)).toContain(sqlState);
  expect((error as Error).message).not.toContain(PASSWORD);
  expect(String(error)).not.toContain(PASSWORD);
}

describe("configuration faults on a real primary and streaming replica", () => {
  const { cluster, db } = useCluster(1);

  beforeAll(async () => {
    await cluster().primary.query("CREATE ROLE nologin_user NOLOGIN");
  });

  it("an unknown database on a replica: named at once on every call, never retried, its breaker stays closed", async () => {
    // No monitor: this is about the call path alone (the monitor's part is the last test).
    const client = db({
      replicaUrls: [withDatabase(cluster().replicaUrls[0]!, "no_such_db")],
      replicas: { pollIntervalMs: false },
    });
    const resilience = recordEvents(client, RESILIENCE_EVENTS);

    const errors: unknown[] = [];
    for (let i = 0; i < 15; i++)
      errors.push(
        await client
          .$replica()
          .user.findMany()
          .catch((e: unknown) => e),
      );
    await settle();

    for (const error of errors) {
      expectConfigurationFault(error, { problem: "unknown-database", node: "replica-0", role: "replica" }, "3D000");
    }
    expect((errors.at(-1) as Error).message).toMatch(/no_such_db|does not exist/i);
    expect(resilience).toEqual([]);
    const health = await client.$health();
    expect(health.replicas[0]).toMatchObject({ name: "replica-0", breaker: "closed" });
  });

  it("sslmode=require against a server without SSL: a configuration fault naming SSL, not a 503 retries-exhausted", async () => {
    const client = db({ primaryUrl: `${withUser(cluster().primaryUrl, "postgres")}?sslmode=require`, replicaUrls: [] });
    const resilience = recordEvents(client, RESILIENCE_EVENTS);
    const error = await client.user.count().catch((e: unknown) => e);
    await settle();
    expectConfigurationFault(error, { problem: "ssl", node: "primary", role: "primary" });
    expect((error as Error).message).toMatch(/ssl|tls/i);
    expect(resilience).toEqual([]);
  });

  it("a role that may not log in (28000): a configuration fault naming authentication, not retried", async () => {
    const client = db({ primaryUrl: withUser(cluster().primaryUrl, "nologin_user"), replicaUrls: [] });
    const resilience = recordEvents(client, RESILIENCE_EVENTS);
    const read = await client.user.count().catch((e: unknown) => e);
    const write = await client.user.create({ data: { email: "nologin@example.test" } }).catch((e: unknown) => e);
    await settle();
    expectConfigurationFault(read, { problem: "authentication", node: "primary", role: "primary" }, "28000");
    expectConfigurationFault(write, { problem: "authentication", node: "primary", role: "primary" }, "28000");
    expect((read as Error).message).toMatch(/nologin_user|log in|authentication/i);
    expect(resilience).toEqual([]);
  });

  it("the replica monitor backs off on a configuration fault: no login attempt on every poll", async () => {
    const proxy = await new TcpProxy(cluster().replicas[0]!.port).listen();
    const client = db({
      replicaUrls: [`postgresql://postgres@127.0.0.1:${proxy.port}/no_such_db`],
      replicas: { pollIntervalMs: 50 },
    });
    try {
      // The monitor's first round runs at once: it has tried the replica (and failed) once.
      await expect.poll(() => proxy.connections, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      // Over the monitor's next 40 polls (2 s at 50 ms, more on a busy machine), a login every
      // poll would be 40 connections; a back-off makes a few. The primary's probes count the polls.
      const monitor = splitStateOf(client)!.monitor!;
      const from = proxy.connections;
      const polled = monitor.queriesSent().primary!;
      const started = performance.now();
      await expect
        .poll(() => monitor.queriesSent().primary, { timeout: 30_000, interval: 20 })
        .toBeGreaterThanOrEqual(polled + 40);
      const made = proxy.connections - from;
      expect(
        made,
        `${made} connections in 40 polls, ${Math.round(performance.now() - started)} ms`,
      ).toBeLessThanOrEqual(10);
    } finally {
      await client.$disconnect();
      await proxy.close();
    }
  });
});

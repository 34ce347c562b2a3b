import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateDbOptions } from "../../../src/config/options.ts";
import { createDb } from "../../../src/index.ts";
import { PrismaClient } from "../../generated/prisma/client.ts";
import { type TestDb, useCluster } from "../harness.ts";
import { holdLock } from "../held-lock.ts";
import { type EventName, outcomeOf } from "../observe.ts";
import {
  countExactlyOnce,
  expectNothingLost,
  type LiveDurability,
  liveDurability,
  resourceCounts,
  scenarioRow,
  seedAuthor,
} from "./checks.ts";
import { type LoadResult, runLoad, type Sample } from "./load.ts";
import { describeFailures, formatTable, type ScenarioRow } from "./report.ts";
import { TcpProxy } from "./tcp-proxy.ts";

// Real primary + streaming replica, a bounded mixed load (8 workers, 70 % reads, 30 % writes
// with unique keys, a few seconds), one fault per scenario. Behaviour is asserted; the numbers
// are printed in a table after the last scenario.

type DbOptions = Omit<CreateDbOptions<PrismaClient>, "PrismaClient">;
interface Observed {
  result: LoadResult;
  events: string[];
  marks: Record<string, number>;
}

const LOAD = { workers: 8, readShare: 0.7, pauseMs: 5 };
/** Test-friendly breaker: a trial call 1 s after opening (default 5 s), opens after 5 calls. */
const BREAKER = { resetTimeout: 1_000, volumeThreshold: 5 };
const rows: ScenarioRow[] = [];
const notes: string[] = [];

describe("chaos: node failures under load", () => {
  const { cluster } = useCluster(1);
  let authorId = 0;

  beforeAll(async () => {
    authorId = await seedAuthor(cluster(), "chaos-author@example.test");
  });

  afterAll(() => {
    console.log(`\nchaos suite (8 workers, 70% reads / 30% writes)\n${formatTable(rows)}\n${notes.join("\n")}\n`);
  });

  /** Runs the load while `fault` plays out, then checks acknowledged writes and leftovers. */
  async function scenario(
    name: string,
    options: DbOptions,
    durationMs: number,
    fault: (marks: Record<string, number>, db: TestDb, samples: readonly Sample[]) => Promise<void>,
    until?: (samples: readonly Sample[], marks: Record<string, number>) => boolean,
  ): Promise<Observed> {
    const before = resourceCounts();
    const db: TestDb = createDb({
      PrismaClient,
      primaryUrl: cluster().primaryUrl,
      replicaUrls: cluster().replicaUrls,
      ...options,
    });
    const events: string[] = [];
    for (const name of ["breaker:open", "breaker:halfOpen", "breaker:close", "shed", "replica:down"] as const) {
      db.$events.on(name, (event) => events.push(`${name} ${event.node}`));
    }
    const marks: Record<string, number> = {};
    let result: LoadResult;
    let live: LiveDurability;
    try {
      // The fault's first steps run before the load's first requests (scenario 4 takes the slots first).
      const samples: Sample[] = [];
      const faulted = fault(marks, db, samples);
      // Both settle before the scenario ends, also when the fault fails: a load left running would
      // go on into the next scenario.
      const [loaded, played] = await Promise.allSettled([
        runLoad(db, {
          ...LOAD,
          samples,
          durationMs,
          tag: name.replace(/\W+/g, "-"),
          authorId,
          ...(until === undefined ? {} : { until: (samples: readonly Sample[]) => until(samples, marks) }),
        }),
        faulted,
      ]);
      if (played.status === "rejected") throw played.reason;
      if (loaded.status === "rejected") throw loaded.reason;
      result = loaded.value;
      for (const node of cluster().nodes) await node.start();
      live = await liveDurability(cluster(), result);
    } finally {
      await db.$disconnect();
      // Also after a failed scenario: the next one starts with every node up.
      for (const node of cluster().nodes) await node.start();
    }
    await cluster().waitForReplicas(30_000);
    rows.push(await scenarioRow(cluster(), name, result, before, live));
    notes.push(`${name}: failures: ${describeFailures(result.samples)}; breaker: ${summarize(events)}`);
    return { result, events, marks };
  }

  const last = () => rows.at(-1)!;
  const where = (samples: readonly Sample[], test: (sample: Sample) => boolean) => samples.filter(test);
  function expectAcknowledgedWritesExactlyOnce(): void {
    expectNothingLost(last());
  }

  it("1. a replica killed (immediate) mid-load and restarted: no read fails", async () => {
    const replica = cluster().replicas[0]!;
    const port = replica.port;
    const readOnReplicaAfter = (samples: readonly Sample[], at: number | undefined) =>
      at !== undefined && samples.some((s) => s.kind === "read" && s.startedAt > at && s.port === port);
    const { result, marks, events } = await scenario(
      "replica killed",
      { breaker: BREAKER },
      6_000,
      async (marks, db) => {
        // Killed once it has served the load, started again once the client has noticed: each
        // step waits for its condition, not for a time that a busy machine may not keep.
        await nextEvent(db, ["query"], (event) => event.node === "replica-0" && event.error === undefined);
        const noticed = nextEvent(db, ["breaker:open", "replica:down"], (event) => event.node === "replica-0");
        noticed.catch(() => {});
        await replica.kill();
        marks.killed = performance.now();
        await noticed;
        await replica.start();
        marks.restarted = performance.now();
      },
      // A restarted standby comes back to rotation after crash recovery, the monitor's next poll
      // or the breaker's trial call: on a busy machine that outlasted a fixed 6 s load, and the
      // "read on the replica after the restart" count below was 0. The load goes on until it is seen.
      (samples, marks) => readOnReplicaAfter(samples, marks.restarted),
    );
    const { samples } = result;
    expect(where(samples, (s) => s.outcome !== "ok")).toEqual([]);
    // Reads moved to the primary while the replica was down, and came back to it afterwards.
    expect(
      where(samples, (s) => s.kind === "read" && s.startedAt < marks.killed! && s.port === port).length,
    ).toBeGreaterThan(0);
    expect(
      where(samples, (s) => s.kind === "read" && s.startedAt > marks.restarted! && s.port === port).length,
    ).toBeGreaterThan(0);
    // Whichever notices first takes it out of rotation: its breaker, or the replica monitor's poll.
    expect(
      events.filter((event) => event === "breaker:open replica-0" || event === "replica:down replica-0"),
    ).not.toEqual([]);
    expectAcknowledgedWritesExactlyOnce();
  }, 90_000);

  it("2. the primary killed mid-load and restarted: writes fail fast with 503 only, reads go on, writes resume", async () => {
    const primary = cluster().primary;
    const { result, marks, events } = await scenario(
      "primary killed",
      { breaker: BREAKER },
      6_000,
      async (marks, db, samples) => {
        // Killed once it has taken the load's writes, started again once its open breaker refuses
        // the load's writes without the network (a busy machine may not get there within a fixed 2 s).
        await nextEvent(db, ["query"], (event) => event.node === "primary" && event.reason === "write" && !event.error);
        await primary.kill();
        const killed = performance.now();
        marks.killed = killed;
        const refused = () =>
          samples.some((s) => s.kind === "write" && s.detail === "breaker-open" && s.startedAt > killed);
        await expect.poll(refused, { timeout: 20_000, interval: 50 }).toBe(true);
        await primary.start();
        marks.restarted = performance.now();
      },
      (samples, marks) => writeOkAfter(samples, marks.restarted),
    );
    const { samples } = result;
    expect(where(samples, (s) => s.outcome === "other")).toEqual([]);
    expect(where(samples, (s) => s.kind === "read" && s.outcome !== "ok")).toEqual([]);
    const unavailable = where(samples, (s) => s.outcome === "503");
    expect(unavailable.length).toBeGreaterThan(0);
    expect(unavailable.every((s) => s.kind === "write")).toBe(true);
    // Once the breaker is open, writes are refused without touching the network.
    expect(events).toContain("breaker:open primary");
    expect(where(unavailable, (s) => s.detail === "breaker-open").length).toBeGreaterThan(0);
    // No hang: every call came back within the time bounds (generous: this asserts no hang, not speed).
    expect(Math.max(...samples.map((s) => s.ms))).toBeLessThan(15_000);
    // Writes resumed after the restart, with the same client.
    expect(writeOkAfter(samples, marks.restarted)).toBe(true);
    expectAcknowledgedWritesExactlyOnce();
  }, 90_000);

  it("3a. a black-holed replica: reads bounded by the breaker's timeout go to the primary, the replica leaves rotation", async () => {
    const proxy = await new TcpProxy(cluster().replicas[0]!.port).listen();
    try {
      const options: DbOptions = {
        replicaUrls: [`postgresql://postgres@127.0.0.1:${proxy.port}/app?connect_timeout=1&pool_timeout=1`],
        breaker: { ...BREAKER, timeout: 500 },
      };
      const { result, events } = await scenario("replica black-holed", options, 6_000, async (_marks, db) => {
        // Black-holed once it has served the load, restored once the client has noticed.
        await nextEvent(db, ["query"], (event) => event.node === "replica-0" && !event.error);
        const noticed = nextEvent(db, ["breaker:open", "replica:down"], (event) => event.node === "replica-0");
        noticed.catch(() => {});
        proxy.blackHole();
        await noticed;
        proxy.restore();
      });
      const { samples } = result;
      expect(where(samples, (s) => s.outcome !== "ok")).toEqual([]);
      // Whichever notices first takes it out of rotation: its breaker, or the replica monitor's poll.
      expect(
        events.filter((event) => event === "breaker:open replica-0" || event === "replica:down replica-0"),
      ).not.toEqual([]);
      expect(Math.max(...samples.map((s) => s.ms))).toBeLessThan(10_000);
      expectAcknowledgedWritesExactlyOnce();
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it("3b. a black-holed primary: writes end in a bounded 503, the breaker opens, reads go on", async () => {
    const proxy = await new TcpProxy(cluster().primary.port).listen();
    try {
      const options: DbOptions = {
        primaryUrl: `postgresql://postgres@127.0.0.1:${proxy.port}/app?connect_timeout=1&pool_timeout=1`,
        breaker: { ...BREAKER, timeout: 500 },
      };
      const { result, events, marks } = await scenario(
        "primary black-holed",
        options,
        6_000,
        async (marks, db) => {
          await nextEvent(
            db,
            ["query"],
            (event) => event.node === "primary" && event.reason === "write" && !event.error,
          );
          // Silence is detected per statement (statement_timeout + grace) and per connect
          // (connect_timeout): the hole stays until the breaker has seen enough of it to open.
          const opened = nextEvent(db, ["breaker:open"], (event) => event.node === "primary");
          proxy.blackHole();
          await opened;
          proxy.restore();
          marks.restored = performance.now();
        },
        (samples, marks) => writeOkAfter(samples, marks.restored),
      );
      const { samples } = result;
      expect(where(samples, (s) => s.outcome === "other")).toEqual([]);
      expect(where(samples, (s) => s.kind === "read" && s.outcome !== "ok")).toEqual([]);
      expect(where(samples, (s) => s.outcome === "503").length).toBeGreaterThan(0);
      expect(events).toContain("breaker:open primary");
      expect(Math.max(...samples.map((s) => s.ms))).toBeLessThan(10_000);
      expect(
        where(samples, (s) => s.kind === "write" && s.outcome === "ok" && s.startedAt > marks.restored!).length,
      ).toBeGreaterThan(0);
      expectAcknowledgedWritesExactlyOnce();
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it("4. pool exhaustion: slow queries hold every primary connection, excess writes are shed with 503 at once", async () => {
    const options: DbOptions = {
      primaryUrl: `${cluster().primaryUrl}?connection_limit=2&pool_timeout=5`,
      bulkhead: { maxQueue: 4 },
      breaker: BREAKER,
    };
    const slow: string[] = [];
    // Taken before the scenario starts: its first step (the holders) must come before the load's first requests.
    const lock = await holdLock([cluster().primary]);
    let observed: Observed;
    try {
      observed = await scenario("pool exhausted", options, 6_000, async (marks, db) => {
        // Two hold both connections and two wait in the queue, until the bulkhead has shed a write
        // of the load (a fixed 2 s + 2 s may pass on a busy machine before the load gets there).
        const shed = nextEvent(db, ["shed"], (event) => event.node === "primary");
        shed.catch(() => {});
        const holders = Array.from({ length: 4 }, () =>
          Promise.resolve(db.$executeRawUnsafe(`SELECT 1 FROM ${lock.waitSql}`)),
        );
        marks.exhausted = performance.now();
        await shed.finally(() => lock.release());
        const outcomes = await Promise.allSettled(holders);
        marks.freed = performance.now();
        slow.push(
          ...outcomes.map((outcome) =>
            outcome.status === "fulfilled" ? "held" : String((outcome.reason as Error).message).slice(0, 120),
          ),
        );
      });
    } finally {
      await lock.release();
    }
    const { result, events, marks } = observed;
    const { samples } = result;
    expect(slow).toEqual(["held", "held", "held", "held"]);
    expect(where(samples, (s) => s.outcome === "other")).toEqual([]);
    expect(where(samples, (s) => s.kind === "read" && s.outcome !== "ok")).toEqual([]);
    const shed = where(samples, (s) => s.outcome === "503");
    expect(shed.length).toBeGreaterThan(0);
    expect(shed.every((s) => s.detail === "overloaded")).toBe(true);
    expect(events.some((event) => event.startsWith("shed primary"))).toBe(true);
    expect(events.some((event) => event.startsWith("breaker:open"))).toBe(false);
    // The process stayed healthy: writes go through again once the slow queries are done.
    expect(
      where(samples, (s) => s.kind === "write" && s.outcome === "ok" && s.startedAt > marks.freed!).length,
    ).toBeGreaterThan(0);
    notes.push(`pool exhausted: slow holders ${slow.join(", ")}`);
    expectAcknowledgedWritesExactlyOnce();
  }, 90_000);

  it("5. a burst of slow queries: each ends as its own 57014 or is shed, no breaker opens, calls after it succeed", async () => {
    const burst: string[] = [];
    const okAfter = (samples: readonly Sample[], kind: Sample["kind"], at: number | undefined) =>
      at !== undefined && samples.some((s) => s.kind === kind && s.outcome === "ok" && s.startedAt > at);
    const { result, events, marks } = await scenario(
      "slow-query burst",
      { breaker: { ...BREAKER, timeout: 1_000 } },
      4_000,
      async (marks, db) => {
        await nextEvent(db, ["query"], (event) => event.node === "replica-0" && event.error === undefined);
        // 12 reads that outlast the breaker's timeout, at once: more than a node's pool runs. The
        // pg_sleep is the fault (a query slower than the timeout), not a wait: it ends as 57014.
        const outcomes = await Promise.allSettled(
          Array.from({ length: 12 }, () => Promise.resolve(db.$queryRaw`select 1 as x from pg_sleep(1.5)`)),
        );
        marks.burstDone = performance.now();
        burst.push(...outcomes.map((outcome) => outcomeOf(outcome)));
      },
      (samples, marks) => okAfter(samples, "read", marks.burstDone) && okAfter(samples, "write", marks.burstDone),
    );
    const { samples } = result;
    // A slow query is the query's problem: its own cancellation (57014), or shed by a full bulkhead.
    expect(burst.filter((outcome) => outcome !== "57014" && outcome !== "503 overloaded")).toEqual([]);
    expect(burst).toContain("57014");
    expect(events.filter((event) => event.startsWith("breaker:open"))).toEqual([]);
    // The load around it: at worst shed while the pools were full, never refused by a breaker.
    expect(where(samples, (s) => s.outcome === "other")).toEqual([]);
    expect(where(samples, (s) => s.outcome === "503" && s.detail !== "overloaded")).toEqual([]);
    expect(okAfter(samples, "read", marks.burstDone)).toBe(true);
    expect(okAfter(samples, "write", marks.burstDone)).toBe(true);
    notes.push(`slow-query burst: ${summarize(burst)}`);
    expectAcknowledgedWritesExactlyOnce();
  }, 90_000);

  it("6. a misrouted-write loop: each write re-runs once on the primary, the replica stays in rotation", async () => {
    // A write the SQL check cannot see: a function declared STABLE that inserts through a
    // volatile one; it reads as a SELECT of a stable function, the replica refuses it with 25006.
    await cluster().primary.query(
      "CREATE FUNCTION chaos_insert_post(title text, author int) RETURNS int LANGUAGE sql " +
        "AS $$ INSERT INTO posts (title, author_id) VALUES (title, author) RETURNING 1 $$",
    );
    await cluster().primary.query(
      "CREATE FUNCTION chaos_misrouted(title text, author int) RETURNS int STABLE LANGUAGE sql " +
        "AS $$ SELECT chaos_insert_post(title, author) $$",
    );
    await cluster().waitForReplicas();
    const port = cluster().replicas[0]!.port;
    const readOnReplicaAfter = (samples: readonly Sample[], at: number | undefined) =>
      at !== undefined && samples.some((s) => s.kind === "read" && s.startedAt > at && s.port === port);
    const outcomes: string[] = [];
    const written: string[] = [];
    const { result, events, marks } = await scenario(
      "misrouted-write loop",
      { breaker: BREAKER },
      4_000,
      async (marks, db) => {
        await nextEvent(db, ["query"], (event) => event.node === "replica-0" && event.error === undefined);
        // Four loops at once, 12 calls each, as from an endpoint that calls such a function.
        await Promise.all(
          Array.from({ length: 4 }, async (_, loop) => {
            for (let i = 0; i < 12; i++) {
              const title = `misrouted-${loop}-${i}`;
              const call = db.$queryRaw`select chaos_misrouted(${title}, ${authorId}::int) as r`;
              const [outcome] = await Promise.allSettled([Promise.resolve(call)]);
              outcomes.push(outcomeOf(outcome!, ["25006"]));
              if (outcome!.status === "fulfilled") written.push(title);
            }
          }),
        );
        marks.loopDone = performance.now();
      },
      (samples, marks) => readOnReplicaAfter(samples, marks.loopDone),
    );
    const { samples } = result;
    expect(outcomes.filter((outcome) => outcome !== "ok")).toEqual([]);
    expect(await countExactlyOnce(cluster(), written)).toBe(48);
    expect(events.filter((event) => event.startsWith("breaker:open"))).toEqual([]);
    expect(where(samples, (s) => s.outcome !== "ok")).toEqual([]);
    // Not counted against the replica: it still serves the load's reads after the loop.
    expect(readOnReplicaAfter(samples, marks.loopDone)).toBe(true);
    notes.push(`misrouted-write loop: ${summarize(outcomes)}`);
    expectAcknowledgedWritesExactlyOnce();
  }, 90_000);
});

/**
 * The first of `names` that `db` emits from now on whose payload passes `test`; rejects after
 * `timeoutMs`, so a condition that never comes fails the scenario instead of hanging it.
 */
function nextEvent(
  db: TestDb,
  names: readonly EventName[],
  test: (payload: { node?: string; error?: unknown; reason?: string }) => boolean,
  timeoutMs = 20_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const offs: Array<() => void> = [];
    const done = () => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${names.join(" or ")} event within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const name of names) {
      offs.push(
        db.$events.on(name, (payload: unknown) => {
          if (!test(payload as { node?: string; error?: unknown; reason?: string })) return;
          done();
          resolve(name);
        }),
      );
    }
  });
}

/** Whether a load's write started after `at` succeeded: the scenario's "writes resumed". */
function writeOkAfter(samples: readonly Sample[], at: number | undefined): boolean {
  return at !== undefined && samples.some((s) => s.kind === "write" && s.outcome === "ok" && s.startedAt > at);
}

function summarize(events: readonly string[]): string {
  const tally = new Map<string, number>();
  for (const event of events) tally.set(event, (tally.get(event) ?? 0) + 1);
  return [...tally].map(([event, n]) => `${event} ×${n}`).join(", ") || "no events";
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateDbOptions } from "../../../src/config/options.ts";
import type { TopologyChangeEvent } from "../../../src/events.ts";
import { createDb } from "../../../src/index.ts";
import { PrismaClient } from "../../generated/prisma/client.ts";
import { type TestDb, useCluster } from "../harness.ts";
import {
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

// The primary moves under the usual load (8 workers, 70 % reads, 30 % writes with unique keys):
// a switchover and a failover seen through one multi-host URL, and a single-host "cluster
// endpoint" (a TCP proxy) re-pointed to the new writer. Each scenario runs until writes have
// resumed on the new primary (and, where asked, reads reach the old one again as a standby).

type DbOptions = Omit<CreateDbOptions<PrismaClient>, "PrismaClient">;
const LOAD = { workers: 8, readShare: 0.7, pauseMs: 5 };
const POLL_MS = 250;
const rows: ScenarioRow[] = [];
const notes: string[] = [];

describe("chaos: the primary moves under load", () => {
  const { cluster } = useCluster(1);
  let authorId = 0;

  beforeAll(async () => {
    authorId = await seedAuthor(cluster(), "topology-author@example.test");
  });

  afterAll(() => {
    console.log(`\nchaos: topology (8 workers, 70% reads / 30% writes)\n${formatTable(rows)}\n${notes.join("\n")}\n`);
  });

  /** Every server of the cluster in one URL, the current replica first (the writer need not lead). */
  const oneUrl = () => {
    const hosts = [...cluster().replicas, cluster().primary].map((node) => `127.0.0.1:${node.port}`);
    return `postgresql://postgres@${hosts.join(",")}/app?target_session_attrs=read-write`;
  };

  async function scenario(
    name: string,
    options: DbOptions,
    fault: () => Promise<void>,
    until: (samples: readonly Sample[]) => boolean,
  ): Promise<{ result: LoadResult; changes: TopologyChangeEvent[] }> {
    const before = resourceCounts();
    const db: TestDb = createDb({ PrismaClient, replicas: { pollIntervalMs: POLL_MS }, ...options });
    const changes: TopologyChangeEvent[] = [];
    const timeline: Array<[string, number]> = [];
    db.$events.on("topology:change", (event) => {
      changes.push(event);
      timeline.push([`${event.action}(${event.trigger})`, performance.now()]);
    });
    for (const name of ["breaker:open", "breaker:close", "breaker:halfOpen"] as const) {
      db.$events.on(name, (event) => timeline.push([`${name} ${event.node}`, performance.now()]));
    }
    // Roles are known before the load starts (the first write waits for them anyway).
    await db.user.count();
    let result: LoadResult;
    let live: LiveDurability;
    try {
      const faulted = (async () => {
        // Some acknowledged writes on the old primary first.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await fault();
      })();
      [result] = await Promise.all([
        runLoad(db, {
          ...LOAD,
          durationMs: 1_000,
          tag: name.replace(/\W+/g, "-"),
          authorId,
          until,
          maxDurationMs: 30_000,
        }),
        faulted,
      ]);
      live = await liveDurability(cluster(), result);
    } finally {
      await db.$disconnect();
    }
    await cluster().waitForReplicas(30_000);
    rows.push(await scenarioRow(cluster(), name, result, before, live));
    const promotedAt = cluster().lastPromotionAt!;
    const firstAck = result.samples
      .filter((s) => s.kind === "write" && s.outcome === "ok" && s.startedAt + s.ms > promotedAt)
      .map((s) => s.startedAt + s.ms - promotedAt)
      .sort((a, b) => a - b)[0];
    notes.push(
      `${name}: first acknowledged write ${firstAck === undefined ? "never" : `${Math.round(firstAck)} ms`} after the promotion; ` +
        `topology:change ${changes.map((c) => `${c.action}(${c.trigger}, ${c.durationMs} ms)`).join(", ") || "none"}; ` +
        `failures: ${describeFailures(result.samples)}; timeline after the promotion: ${timeline
          .map(([what, at]) => `${what} ${Math.round(at - promotedAt)} ms`)
          .join(", ")}`,
    );
    return { result, changes };
  }

  const writesAfterPromotion = (samples: readonly Sample[]) => {
    const at = cluster().lastPromotionAt;
    return at !== undefined && samples.some((s) => s.kind === "write" && s.outcome === "ok" && s.startedAt > at);
  };
  const readsOn = (samples: readonly Sample[], port: number, after: number | undefined) =>
    after !== undefined &&
    samples.some((s) => s.kind === "read" && s.outcome === "ok" && s.port === port && s.startedAt > after);

  /** `readsUninterrupted`: a replica was there to serve them (not so for a primary-only endpoint). */
  function expectCleanRun(result: LoadResult, readsUninterrupted = true): void {
    const row = rows.at(-1)!;
    expectNothingLost(row);
    expect(result.samples.filter((s) => s.outcome === "other")).toEqual([]);
    if (readsUninterrupted) expect(result.samples.filter((s) => s.kind === "read" && s.outcome !== "ok")).toEqual([]);
    // Every failure is a 503 that says why. A write refused a connection on every attempt before
    // anything noticed the move ends "retries-exhausted" (never sent: exactly-once holds above);
    // how many do depends on how fast the machine stops the old primary, so none is not asserted.
    const reasons = new Set(["unreachable", "breaker-open", "primary-moving", "retries-exhausted", "overloaded"]);
    expect(result.samples.filter((s) => s.outcome === "503" && !reasons.has(s.detail ?? ""))).toEqual([]);
  }

  it("switchover with one multi-host URL: writes resume on the new primary, the old one serves reads as a standby", async () => {
    const oldPrimary = cluster().primary;
    let rejoinedAt: number | undefined;
    const { result, changes } = await scenario(
      "switchover, multi-host URL",
      { primaryUrl: oneUrl(), replicaUrls: undefined },
      async () => {
        await cluster().switchover();
        rejoinedAt = performance.now();
      },
      (samples) => writesAfterPromotion(samples) && readsOn(samples, oldPrimary.port, rejoinedAt),
    );
    expectCleanRun(result);
    expect(changes.filter((c) => c.action === "moved" && c.trigger !== "start").map((c) => c.current)).toEqual([
      expect.stringContaining(`:${cluster().primary.port}/`),
    ]);
    expect(readsOn(result.samples, oldPrimary.port, rejoinedAt)).toBe(true);
  });

  it("failover with one multi-host URL: writes resume on the promoted standby; the old primary rejoins as a standby", async () => {
    const oldPrimary = cluster().primary;
    let rejoinedAt: number | undefined;
    const { result, changes } = await scenario(
      "failover, multi-host URL",
      { primaryUrl: oneUrl(), replicaUrls: undefined },
      async () => {
        await cluster().failover();
        await cluster().rejoin(oldPrimary);
        rejoinedAt = performance.now();
      },
      (samples) => writesAfterPromotion(samples) && readsOn(samples, oldPrimary.port, rejoinedAt),
    );
    expectCleanRun(result);
    expect(changes.filter((c) => c.action === "moved" && c.trigger !== "start")).toHaveLength(1);
  });

  it("a single-host cluster endpoint re-pointed after a switchover: its pool reconnects, writes resume", async () => {
    const proxy = await new TcpProxy(cluster().primary.port).listen();
    const endpoint = `postgresql://postgres@127.0.0.1:${proxy.port}/app`;
    let repointedAt: number | undefined;
    try {
      const { result, changes } = await scenario(
        "cluster endpoint re-pointed",
        { primaryUrl: endpoint, replicaUrls: [] },
        async () => {
          await cluster().switchover();
          // The endpoint's DNS lags: for a while it still reaches the old server, now a standby.
          await new Promise((resolve) => setTimeout(resolve, 500));
          proxy.repoint(cluster().primary.port);
          repointedAt = performance.now();
        },
        (samples) =>
          repointedAt !== undefined &&
          samples.some((s) => s.kind === "write" && s.outcome === "ok" && s.startedAt > (repointedAt as number)),
      );
      // Primary only: while the endpoint reaches no writer, reads fail fast too (503, never an other error).
      expectCleanRun(result, false);
      expect(changes.map((c) => c.action)).toContain("reconnected");
      expect(changes.map((c) => c.action)).not.toContain("moved");
      const resumed = result.samples
        .filter((s) => s.kind === "write" && s.outcome === "ok" && s.startedAt + s.ms > (repointedAt as number))
        .map((s) => s.startedAt + s.ms - (repointedAt as number))
        .sort((a, b) => a - b)[0];
      notes.push(`${rows.at(-1)!.scenario}: first acknowledged write ${Math.round(resumed!)} ms after the re-point`);
    } finally {
      await proxy.close();
    }
  });
});

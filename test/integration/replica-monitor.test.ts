import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { SplitEventMap } from "../../src/events.ts";
import type { DbNode } from "../../src/nodes/db-node.ts";
import type { RouteReason } from "../../src/routing/router.ts";
import { splitStateOf } from "../../src/split-state.ts";
import { type TestDb, uniqueEmail, useCluster, writeSucceeds } from "./harness.ts";

const run = promisify(execFile);
const POLL_MS = 100;
const MAX_LAG_MS = 300;

type Recorded = { name: keyof SplitEventMap; at: number; payload: unknown };

/** Every monitor event of `db`, with the time it came. */
function record(db: TestDb): Recorded[] {
  const seen: Recorded[] = [];
  for (const name of ["replica:down", "replica:up", "replica:lagging", "role:mismatch"] as const) {
    db.$events.on(name, (payload: unknown) => seen.push({ name, at: performance.now(), payload }));
  }
  return seen;
}

function replicaNode(db: TestDb, index = 0): DbNode {
  return splitStateOf(db)!.nodes[index + 1]!;
}

async function servedBy(db: TestDb): Promise<{ port: number; reason: RouteReason }> {
  let reason: RouteReason | undefined;
  const off = db.$events.on("query", (event) => {
    reason = event.reason;
  });
  try {
    const { port } = await db.nodeInfo.findFirstOrThrow();
    return { port, reason: reason! };
  } finally {
    off();
  }
}

/**
 * Waits until the monitor of `db` has ended `rounds` polls of `node` that began after this call:
 * the positive signal a check for "no event" needs. A probe is counted as it is sent, and the
 * next round starts only after the last one ended, so a round that was connecting (not yet
 * counted) when this was called is the only one to discount: `rounds + 2` more probes are enough.
 */
async function nextPolls(db: TestDb, node: string, rounds: number): Promise<void> {
  const monitor = splitStateOf(db)!.monitor!;
  const sent = monitor.queriesSent()[node] ?? 0;
  await expect
    .poll(() => monitor.queriesSent()[node], { timeout: 20_000, interval: 20 })
    .toBeGreaterThanOrEqual(sent + rounds + 2);
}

const waitFor = (seen: Recorded[], name: keyof SplitEventMap, after = 0) =>
  expect
    .poll(() => seen.find((event) => event.name === name && event.at >= after), { timeout: 20_000, interval: 20 })
    .toBeDefined();

describe("replica monitor on a real primary and streaming replica", () => {
  const { cluster, db } = useCluster(1);
  const monitored = (extra: { strict?: boolean } = {}, replicaUrls?: string[]) =>
    db({
      replicas: { pollIntervalMs: POLL_MS, maxLagMs: MAX_LAG_MS, ...extra },
      ...(replicaUrls === undefined ? {} : { replicaUrls }),
    });

  it("an idle primary does not look like lag, though the last replayed commit is old", async () => {
    await cluster().waitForReplicas();
    const client = monitored();
    const seen = record(client);
    // The naive measure, now() - pg_last_xact_replay_timestamp(), goes past the bound while the
    // primary commits nothing...
    const naiveLagMs = async () =>
      (
        await cluster().replicas[0]!.query<{ ms: number }>(
          "SELECT (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS ms",
        )
      )[0]!.ms;
    await expect.poll(naiveLagMs, { timeout: 20_000, interval: 50 }).toBeGreaterThan(MAX_LAG_MS);
    // ...and the monitor has measured the replica since...
    await nextPolls(client, "replica-0", 2);
    // ...but receive = replay = the primary's position: caught up.
    expect(seen.filter((event) => event.name === "replica:lagging")).toEqual([]);
    expect(replicaNode(client).observed).toMatchObject({
      reachable: true,
      actualRole: "replica",
      lagMs: 0,
      lagBytes: 0,
    });
    expect(await servedBy(client)).toEqual({ port: cluster().replicas[0]!.port, reason: "read" });
  });

  it("a replica paused past maxLagMs leaves rotation, and returns once caught up after resume", async () => {
    const replica = cluster().replicas[0]!;
    const client = monitored();
    const seen = record(client);
    await expect.poll(() => replicaNode(client).observed?.lagMs, { timeout: 10_000 }).toBe(0);
    await cluster().pauseReplay(replica);
    try {
      await cluster().primary.query("INSERT INTO users (email) VALUES ($1)", [uniqueEmail("lag")]);
      const wrote = performance.now();
      await waitFor(seen, "replica:lagging");
      const left = seen.find((event) => event.name === "replica:lagging")!;
      const polls = (left.at - wrote - MAX_LAG_MS) / POLL_MS;
      console.log(
        `lagging after ${Math.round(left.at - wrote)} ms (maxLagMs ${MAX_LAG_MS}, poll ${POLL_MS} ms: ` +
          `${polls.toFixed(1)} poll intervals past the bound), payload ${JSON.stringify(left.payload)}`,
      );
      expect(replicaNode(client).rotation.has("lagging")).toBe(true);
      expect(await servedBy(client)).toEqual({ port: cluster().primary.port, reason: "fallback" });
    } catch (error) {
      await cluster().resumeReplay(replica);
      throw error;
    }
    const resumed = performance.now();
    await cluster().resumeReplay(replica);
    await waitFor(seen, "replica:up", resumed);
    expect(replicaNode(client).servesReads).toBe(true);
    expect(replicaNode(client).observed?.lagMs).toBeLessThanOrEqual(MAX_LAG_MS / 2);
    expect(await servedBy(client)).toEqual({ port: replica.port, reason: "read" });
  });

  it("a stopped replica leaves rotation (reads fall back, none fails) and returns after start", async () => {
    const replica = cluster().replicas[0]!;
    const client = monitored();
    const seen = record(client);
    expect((await servedBy(client)).port).toBe(replica.port);
    await replica.stop("immediate");
    try {
      await waitFor(seen, "replica:down");
      expect(replicaNode(client).rotation.has("down")).toBe(true);
      expect(replicaNode(client).observed?.reachable).toBe(false);
      expect(await servedBy(client)).toEqual({ port: cluster().primary.port, reason: "fallback" });
    } catch (error) {
      await replica.start();
      throw error;
    }
    const started = performance.now();
    await replica.start();
    await waitFor(seen, "replica:up", started);
    expect(await servedBy(client)).toEqual({ port: replica.port, reason: "read" });
  });

  it("a replica URL that points at the primary is reported: role:mismatch event and node state", async () => {
    // Another address of the primary that the identity check at createDb() cannot tell apart
    // (localhost and 127.0.0.1 it can: that one is refused at once).
    const disguised = cluster().primaryUrl.replace("127.0.0.1", "0.0.0.0");
    const client = monitored({ strict: false }, [disguised]);
    const seen = record(client);
    await waitFor(seen, "role:mismatch");
    const mismatch = seen.find((event) => event.name === "role:mismatch")!.payload;
    expect(mismatch).toMatchObject({ role: "replica", node: "replica-0", actual: "primary" });
    expect((mismatch as { message: string }).message).toMatch(/replica-0 \(.*0\.0\.0\.0.*\) is not in recovery/);
    expect(replicaNode(client).observed?.actualRole).toBe("primary");
    // Not strict: reported, and it keeps serving reads.
    expect(replicaNode(client).servesReads).toBe(true);
    expect(await servedBy(client)).toEqual({ port: cluster().primary.port, reason: "read" });
    await nextPolls(client, "replica-0", 3);
    expect(seen.filter((event) => event.name === "role:mismatch")).toHaveLength(1); // once, not every poll
  });

  it("swapped URLs: writes never move to the replica URL (its role is fixed); the primary in recovery is reported; the writer keeps serving reads", async () => {
    const client = db({
      primaryUrl: cluster().replicaUrls[0]!,
      replicaUrls: [cluster().primaryUrl],
      replicas: { pollIntervalMs: POLL_MS },
    });
    const seen = record(client);
    const changes: unknown[] = [];
    client.$events.on("topology:change", (event) => changes.push(event));
    // The primary URL reaches a standby: 25006, never run there, a 503 primary-moving that says so.
    await waitFor(seen, "role:mismatch");
    expect(seen.find((event) => event.name === "role:mismatch")!.payload).toMatchObject({
      node: "primary",
      actual: "replica",
    });
    for (let i = 0; i < 3; i++) {
      await expect(client.user.create({ data: { email: uniqueEmail("swapped") } })).rejects.toMatchObject({
        reason: "primary-moving",
        outcome: "not-applied",
      });
    }
    expect(changes).toEqual([]);
    expect(splitStateOf(client)!.nodes[0]!.settings.identity).toContain(`:${cluster().replicas[0]!.port}/`);
    // The replica URL's server takes writes while the primary does not: no split brain, it serves reads.
    expect(replicaNode(client).rotation.flags()).toEqual([]);
    expect(await servedBy(client)).toEqual({ port: cluster().primary.port, reason: "read" });
    await nextPolls(client, "replica-0", 3);
    expect(seen.filter((event) => event.name === "role:mismatch")).toHaveLength(1);
  });

  it("a primary URL that reaches a standby, with no writer among the candidates, is reported once", async () => {
    const standby = cluster().replicaUrls[0]!;
    const client = db({
      primaryUrl: standby,
      replicaUrls: [standby.replace("127.0.0.1", "0.0.0.0")],
      replicas: { pollIntervalMs: POLL_MS },
    });
    const seen = record(client);
    await waitFor(seen, "role:mismatch");
    const mismatch = seen.find((event) => event.name === "role:mismatch")!.payload;
    expect(mismatch).toMatchObject({ role: "primary", node: "primary", actual: "replica" });
    expect((mismatch as { message: string }).message).toMatch(/No other candidate took writes/);
    const monitor = splitStateOf(client)!.monitor!;
    const probed = monitor.queriesSent().primary!;
    await expect.poll(() => monitor.queriesSent().primary, { timeout: 10_000 }).toBeGreaterThanOrEqual(probed + 5);
    expect(seen.filter((event) => event.name === "role:mismatch")).toHaveLength(1); // once, not every poll
  });

  it("by default (replicas.strict), the mismatched replica takes no reads", async () => {
    const disguised = cluster().primaryUrl.replace("127.0.0.1", "0.0.0.0");
    const client = monitored({}, [disguised]);
    const seen = record(client);
    await waitFor(seen, "role:mismatch");
    expect((seen[0]!.payload as { message: string }).message).toMatch(/replicas\.strict is on: it takes no reads/);
    expect(replicaNode(client).rotation.flags()).toEqual(["role-mismatch"]);
    expect(await servedBy(client)).toEqual({ port: cluster().primary.port, reason: "fallback" });
  });

  it("$disconnect() stops the monitor: no more probes, its connections closed", async () => {
    const monitorConnections = async () =>
      (
        await cluster().primary.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'prisma-split/monitor/primary'",
        )
      )[0]!.n;
    // A second client whose monitor polls as often: the clock that says a stopped monitor would have polled by now.
    const witness = monitored();
    await nextPolls(witness, "replica-0", 1);
    const before = await monitorConnections(); // this file's earlier clients (and the witness) still poll
    const client = monitored();
    const monitor = splitStateOf(client)!.monitor!;
    await expect.poll(() => monitor.queriesSent()["replica-0"], { timeout: 10_000 }).toBeGreaterThan(1);
    expect(await monitorConnections()).toBe(before + 1);
    await client.$disconnect();
    const after = monitor.queriesSent();
    await nextPolls(witness, "replica-0", 3);
    expect(monitor.queriesSent()).toEqual(after);
    await expect.poll(monitorConnections, { timeout: 10_000 }).toBe(before);
  });

  it("a same-host restart of the primary: writes resume within 1 s of it taking them, not after resetTimeout or a poll", async () => {
    // A poll and a reset far longer than the bound: only the monitor's quick look at a node whose
    // breaker waits (issue 22, point 2) can make it.
    const client = db({
      replicas: { pollIntervalMs: 5_000 },
      breaker: { resetTimeout: 60_000, consecutiveFailures: 3 },
    });
    await client.user.count();
    const primary = cluster().primary;
    await primary.stop("immediate");
    try {
      await expect
        .poll(
          () =>
            client.user.create({ data: { email: uniqueEmail("restart") } }).then(
              () => "ok",
              (error: { reason?: string }) => error.reason,
            ),
          { timeout: 10_000, interval: 20 },
        )
        .toBe("breaker-open");
    } finally {
      await primary.start();
    }
    const upAt = performance.now();
    await expect.poll(() => writeSucceeds(client, "restart"), { timeout: 10_000, interval: 20 }).toBe(true);
    const resumedMs = performance.now() - upAt;
    console.log(`same-host restart: writes resumed ${Math.round(resumedMs)} ms after the primary accepted connections`);
    expect(resumedMs).toBeLessThan(1_000);
  });

  it("a running monitor never keeps the process alive", async () => {
    const script = fileURLToPath(new URL("./fixtures/monitor-exit.ts", import.meta.url));
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", script, cluster().primaryUrl, cluster().replicaUrls[0]!],
      {
        timeout: 30_000,
      },
    );
    // It polled (three rounds or more) and then the process ended without $disconnect().
    const sent = JSON.parse(stdout.trim()) as Record<string, number>;
    expect(sent.primary).toBeGreaterThanOrEqual(3);
    expect(sent["replica-0"]).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

import { describe, expect, it } from "vitest";
import {
  type HealthEvent,
  INITIAL_HEALTH,
  type LagBounds,
  nextReplicaHealth,
  type ProbeOutcome,
  type ReplicaHealth,
} from "../../src/monitor/replica-health.ts";
import { measureLag } from "../../src/monitor/replica-lag.ts";
import { WalTimeline } from "../../src/monitor/wal-timeline.ts";

const bounds: LagBounds = { maxLagMs: 1000, maxLagBytes: undefined };
const lagging = (lagMs: number): ProbeOutcome => ({ reachable: true, inRecovery: true, lagMs, lagBytes: 0 });
const DOWN: ProbeOutcome = { reachable: false };

/** Feeds probes in order; returns each step's status and events. */
function run(outcomes: ProbeOutcome[], limits = bounds, start: ReplicaHealth = INITIAL_HEALTH) {
  let health = start;
  return outcomes.map((outcome) => {
    const step = nextReplicaHealth(health, outcome, limits);
    health = step.health;
    return [health.status, ...step.events] as [string, ...HealthEvent[]];
  });
}

describe("replica health: hysteresis", () => {
  it("leaves rotation over the bound; returns only once back within half of it", () => {
    expect(run([lagging(100), lagging(1001), lagging(900), lagging(600), lagging(500), lagging(900)])).toEqual([
      ["up"],
      ["lagging", "replica:lagging"],
      ["lagging"], // under the bound, but not caught up
      ["lagging"],
      ["up", "replica:up"],
      ["up"], // back in, it stays in until over the bound again
    ]);
  });

  it("applies a byte bound the same way, and either bound alone is enough", () => {
    const limits = { maxLagMs: 1000, maxLagBytes: 1_000_000 };
    const outcome = (lagMs: number, lagBytes: number): ProbeOutcome => ({
      reachable: true,
      inRecovery: true,
      lagMs,
      lagBytes,
    });
    expect(run([outcome(0, 2_000_000), outcome(0, 600_000), outcome(0, 400_000)], limits)).toEqual([
      ["lagging", "replica:lagging"],
      ["lagging"],
      ["up", "replica:up"],
    ]);
  });

  it("down on a failed probe (once), up again on an answer that is caught up", () => {
    expect(run([lagging(0), DOWN, DOWN, lagging(0)])).toEqual([
      ["up"],
      ["down", "replica:down"],
      ["down"],
      ["up", "replica:up"],
    ]);
  });

  it("a replica back from down but behind returns as lagging, until caught up", () => {
    expect(run([DOWN, lagging(700), lagging(100)])).toEqual([
      ["down", "replica:down"],
      ["lagging", "replica:lagging"],
      ["up", "replica:up"],
    ]);
  });

  it("unknown lag (no bound, or a server that is not a standby) is not lagging", () => {
    expect(run([lagging(10_000)], { maxLagMs: undefined, maxLagBytes: undefined })).toEqual([["up"]]);
    expect(run([{ reachable: true, inRecovery: true, lagMs: undefined, lagBytes: undefined }])).toEqual([["up"]]);
  });

  it("reports a role mismatch once, keeps it through an outage, and again after it was fixed", () => {
    const primaryAnswer: ProbeOutcome = { reachable: true, inRecovery: false, lagMs: undefined, lagBytes: undefined };
    expect(run([primaryAnswer, primaryAnswer, DOWN, primaryAnswer, lagging(0), primaryAnswer])).toEqual([
      ["up", "role:mismatch"],
      ["up"],
      ["down", "replica:down"],
      ["up", "replica:up"],
      ["up"],
      ["up", "role:mismatch"],
    ]);
  });

  it("with a fake clock: a replica paused past maxLagMs is out within two poll intervals of crossing it", () => {
    // The monitor's loop, by hand: the primary writes continuously, the standby stops replaying at t=0.
    const pollMs = 100;
    const timeline = new WalTimeline(60_000);
    let health = INITIAL_HEALTH;
    let leftAt: number | undefined;
    for (let now = 0; now <= 3000 && leftAt === undefined; now += pollMs) {
      const primaryLsn = BigInt(1000 + now);
      timeline.record(now, primaryLsn);
      const lag = measureLag(
        { replayLsn: 1000n, receiveLsn: primaryLsn, replayDelayMs: undefined },
        primaryLsn,
        timeline,
        now,
      );
      const step = nextReplicaHealth(health, { reachable: true, inRecovery: true, ...lag }, bounds);
      health = step.health;
      if (step.events.includes("replica:lagging")) leftAt = now;
    }
    // The true lag crosses 1000 ms just after t=1000; the timeline sees it within one poll.
    expect(leftAt).toBeDefined();
    expect(leftAt! - bounds.maxLagMs!).toBeGreaterThan(0);
    expect(leftAt! - bounds.maxLagMs!).toBeLessThanOrEqual(2 * pollMs);
  });
});

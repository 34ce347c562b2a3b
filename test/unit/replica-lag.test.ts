import { describe, expect, it } from "vitest";
import { measureLag } from "../../src/nodes/replica-lag.ts";
import { WalTimeline } from "../../src/nodes/wal-timeline.ts";

const HOUR = 3_600_000;

describe("replica lag", () => {
  it("an idle primary is not lag: the standby replayed all it has, however old its last commit", () => {
    const timeline = new WalTimeline(60_000);
    timeline.record(0, 1000n);
    const standby = { replayLsn: 1000n, receiveLsn: 1000n, replayDelayMs: HOUR };
    expect(measureLag(standby, 1000n, timeline, HOUR)).toEqual({ lagMs: 0, lagBytes: 0 });
  });

  it("is how long ago the primary went past the replayed position", () => {
    const timeline = new WalTimeline(60_000);
    timeline.record(0, 1000n);
    timeline.record(1000, 1000n); // idle: no new mark
    timeline.record(2000, 1500n); // a write lands between 1 s and 2 s
    timeline.record(3000, 1800n);
    const paused = { replayLsn: 1000n, receiveLsn: 1800n, replayDelayMs: HOUR };
    // Last seen at 1000 at 1 s, past it at 2 s: it went past right after 1 s as far as anyone can
    // tell (exact under steady writes; never later than the truth).
    expect(measureLag(paused, 1800n, timeline, 3000)).toEqual({ lagMs: 2000, lagBytes: 800 });
    expect(measureLag({ ...paused, replayLsn: 1500n }, 1800n, timeline, 3000)).toEqual({ lagMs: 1000, lagBytes: 300 });
  });

  it("does not call the first write after an idle hour an hour of lag: at most the poll it landed in", () => {
    const timeline = new WalTimeline(60_000);
    timeline.record(0, 1000n);
    timeline.record(HOUR - 1000, 1000n); // the last idle poll
    timeline.record(HOUR, 1100n); // the write, seen on the primary before the standby replayed it
    const streaming = { replayLsn: 1000n, receiveLsn: 1100n, replayDelayMs: HOUR };
    expect(measureLag(streaming, 1100n, timeline, HOUR)).toEqual({ lagMs: 1000, lagBytes: 100 });
  });

  it("interpolates along the WAL written between two polls: a replica 40 % into it passed 40 % in", () => {
    const timeline = new WalTimeline(60_000);
    timeline.record(0, 1000n);
    timeline.record(1000, 2000n);
    expect(timeline.passed(1400n)).toEqual({ at: 400, earliestKnown: false });
  });

  it("at start-up, before the timeline knows better, trusts the age of the last replayed commit", () => {
    const timeline = new WalTimeline(60_000);
    timeline.record(5000, 9000n);
    const behind = { replayLsn: 1000n, receiveLsn: 9000n, replayDelayMs: 40_000 };
    expect(measureLag(behind, 9000n, timeline, 5000)).toEqual({ lagMs: 40_000, lagBytes: 8000 });
  });

  it("with the primary unreachable, only received and unreplayed WAL counts", () => {
    const timeline = new WalTimeline(60_000);
    timeline.record(0, 1000n);
    expect(measureLag({ replayLsn: 1000n, receiveLsn: 1000n, replayDelayMs: HOUR }, undefined, timeline, 9000)).toEqual(
      {
        lagMs: 0,
        lagBytes: undefined,
      },
    );
    expect(measureLag({ replayLsn: 1000n, receiveLsn: 1200n, replayDelayMs: 700 }, undefined, timeline, 9000)).toEqual({
      lagMs: 700,
      lagBytes: undefined,
    });
  });

  it("keeps marks for its horizon only, and still reports an older lag as at least that", () => {
    const timeline = new WalTimeline(10_000);
    for (let at = 0; at <= 100_000; at += 1000) timeline.record(at, BigInt(at + 1));
    const lag = measureLag(
      { replayLsn: 0n, receiveLsn: 100_001n, replayDelayMs: undefined },
      100_001n,
      timeline,
      100_000,
    );
    expect(lag.lagMs).toBeGreaterThanOrEqual(10_000);
    expect(timeline.passed(95_000n)).toEqual({ at: 94_999, earliestKnown: false });
  });
});

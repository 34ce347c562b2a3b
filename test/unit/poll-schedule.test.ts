import { afterEach, describe, expect, it, vi } from "vitest";
import { PollSchedule } from "../../src/monitor/poll-schedule.ts";

// The replica monitor's spacing of rounds, with fake timers: a round every intervalMs, every
// quickMs while something waits for an answer, and hurry() bringing a far-off round forward.

const schedules: PollSchedule[] = [];
afterEach(() => {
  for (const schedule of schedules.splice(0)) schedule.stop();
  vi.useRealTimers();
});

function setup(roundMs = 0) {
  vi.useFakeTimers();
  const starts: number[] = [];
  let hurried = false;
  const schedule = new PollSchedule(
    async () => {
      starts.push(Date.now());
      if (roundMs > 0) await new Promise((resolve) => setTimeout(resolve, roundMs));
    },
    { intervalMs: 1_000, quickMs: 200, hurried: () => hurried, now: () => Date.now() },
  );
  schedules.push(schedule);
  const t0 = Date.now();
  const at = () => starts.map((start) => start - t0);
  return {
    schedule,
    at,
    setHurried: (on: boolean) => {
      hurried = on;
    },
  };
}

describe("PollSchedule", () => {
  it("starts a round at once, then one every intervalMs from the start of the last", async () => {
    const { schedule, at } = setup(300);
    schedule.start();
    await vi.advanceTimersByTimeAsync(3_100);
    expect(at()).toEqual([0, 1_000, 2_000, 3_000]);
  });

  it("hurry() brings the next round to within quickMs, and rounds stay quickMs apart while hurried", async () => {
    const { schedule, at, setHurried } = setup();
    schedule.start();
    await vi.advanceTimersByTimeAsync(100);
    setHurried(true);
    schedule.hurry();
    await vi.advanceTimersByTimeAsync(600);
    expect(at()).toEqual([0, 300, 500, 700]);
    // The round at 700 ms already set the next one quick; after it, a whole interval again.
    setHurried(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(at()).toEqual([0, 300, 500, 700, 900, 1_900]);
  });

  it("hurry() never delays a round that is already due sooner", async () => {
    const { schedule, at } = setup();
    schedule.start();
    await vi.advanceTimersByTimeAsync(900);
    schedule.hurry();
    await vi.advanceTimersByTimeAsync(100);
    expect(at()).toEqual([0, 1_000]);
  });

  it("stop() ends the rounds; start() again begins at once", async () => {
    const { schedule, at } = setup();
    schedule.start();
    await vi.advanceTimersByTimeAsync(10);
    schedule.stop();
    schedule.hurry();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(at()).toEqual([0]);
    schedule.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(at()).toEqual([0, 5_010]);
    schedule.stop();
  });
});

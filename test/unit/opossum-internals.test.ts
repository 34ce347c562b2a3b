import CircuitBreaker from "opossum";
import { describe, expect, it } from "vitest";
import { countingStatus } from "../../src/resilience/opossum-internals.ts";

type Bucket = { successes: number; failures: number; latencyTimes: number[] };
const windowOf = (status: CircuitBreaker.Status) => (status as unknown as { window: Bucket[] }).window;
const settings = { rollingCountTimeout: 10_000, rollingCountBuckets: 10 };

describe("the breaker's rolling window keeps counts, not a latency per call", () => {
  it("opossum 9 itself keeps every latency even with rollingPercentilesEnabled: false (why countingStatus exists)", () => {
    const status = CircuitBreaker.newStatus({
      ...settings,
      rollingPercentilesEnabled: false,
    } as CircuitBreaker.StatusOptions);
    for (let i = 0; i < 1000; i++)
      (status as unknown as { increment(p: string, t: number): void }).increment("successes", 1);
    expect(windowOf(status)[0]?.latencyTimes).toHaveLength(1000);
    (status as unknown as { shutdown(): void }).shutdown();
  });

  it("countingStatus counts successes and failures and stores no latencies", () => {
    const status = countingStatus(settings);
    const increment = (status as unknown as { increment(p: string, t: number): void }).increment.bind(status);
    for (let i = 0; i < 1000; i++) increment("successes", 1);
    increment("failures", 2);
    const [bucket] = windowOf(status);
    expect(bucket?.successes).toBe(1000);
    expect(bucket?.failures).toBe(1);
    expect(bucket?.latencyTimes).toHaveLength(0);
    expect(status.stats.successes).toBe(1000);
    (status as unknown as { shutdown(): void }).shutdown();
  });

  it("a count written straight into the window is what fire() would have counted: opossum's stats and rule see it", async () => {
    const status = countingStatus(settings);
    const fired = new CircuitBreaker(async () => "ok", { status } as CircuitBreaker.Options);
    await fired.fire();
    const viaFire = { fires: status.stats.fires, successes: status.stats.successes };
    const window = status as unknown as { increment(p: "fires" | "successes"): void };
    window.increment("fires");
    window.increment("successes");
    expect({ fires: status.stats.fires, successes: status.stats.successes }).toEqual({
      fires: viaFire.fires * 2,
      successes: viaFire.successes * 2,
    });
    fired.shutdown();
  });

  it("a breaker built on it still opens on failures", async () => {
    const breaker = new CircuitBreaker(async () => Promise.reject(new Error("down")), {
      volumeThreshold: 5,
      errorThresholdPercentage: 50,
      status: countingStatus(settings),
    } as CircuitBreaker.Options);
    for (let i = 0; i < 6; i++) await breaker.fire().catch(() => undefined);
    expect(breaker.opened).toBe(true);
    breaker.shutdown();
  });
});

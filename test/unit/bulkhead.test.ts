import { describe, expect, it } from "vitest";
import { Bulkhead } from "../../src/resilience/bulkhead.ts";

/** A bulkhead on a clock the test moves, and the node's in-flight count it is told about. */
function setup(maxConcurrent: number, maxQueue: number, maxWaitMs: number) {
  let now = 0;
  const head = new Bulkhead({ maxConcurrent, maxQueue, maxWaitMs }, () => now);
  let inFlight = 0;
  return {
    head,
    get inFlight() {
      return inFlight;
    },
    /** Asks for admission; an admitted call starts. */
    arrive() {
      const refusal = head.refusal(inFlight);
      if (refusal === undefined) head.started(++inFlight);
      return refusal;
    },
    finish() {
      head.finished(inFlight--);
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

describe("Bulkhead", () => {
  it("admits while connections are free and up to maxQueue waiting, then refuses at once", () => {
    const node = setup(2, 3, 0);
    const outcomes = Array.from({ length: 6 }, () => node.arrive());
    expect(outcomes).toEqual([undefined, undefined, undefined, undefined, undefined, "queue-full"]);
    expect(node.inFlight).toBe(5);
    node.finish();
    expect(node.arrive()).toBeUndefined();
  });

  it("refuses at once when no connection has freed up for pool_timeout, and admits again after one does", () => {
    const node = setup(2, Number.POSITIVE_INFINITY, 1_000);
    node.arrive();
    node.arrive(); // every connection taken
    node.advance(10);
    node.finish();
    node.arrive(); // taken again at t = 10
    node.advance(1_000);
    expect(node.arrive()).toBeUndefined(); // stalled 1 000 ms: it may still get one in time
    node.advance(2);
    expect(node.arrive()).toBe("wait-too-long");
    node.finish(); // progress at last
    expect(node.arrive()).toBeUndefined();
  });

  it("refuses a call whose turn would come after pool_timeout at the pace connections free up", () => {
    const node = setup(1, Number.POSITIVE_INFINITY, 1_000);
    node.arrive();
    for (let i = 0; i < 5; i++) {
      node.advance(100); // one call finishes every 100 ms, another takes its place
      node.finish();
      node.arrive();
    }
    // 1 running; the next 10 would wait 100..1 000 ms: admitted; the 11th 1 100 ms: refused.
    const outcomes = Array.from({ length: 12 }, () => node.arrive());
    expect(outcomes.slice(0, 10)).toEqual(Array(10).fill(undefined));
    expect(outcomes.slice(10)).toEqual(["wait-too-long", "wait-too-long"]);
  });

  it("finishes while connections are free say nothing about the pace", () => {
    const node = setup(2, Number.POSITIVE_INFINITY, 1_000);
    node.arrive();
    node.advance(5_000); // one slow call on an otherwise idle node
    node.finish();
    node.arrive();
    node.arrive(); // every connection taken now
    expect(Array.from({ length: 50 }, () => node.arrive())).toEqual(Array(50).fill(undefined));
  });

  it("with pool_timeout 0 (wait as long as it takes) only maxQueue refuses", () => {
    const node = setup(1, 2, 0);
    node.arrive();
    node.advance(3_600_000);
    expect([node.arrive(), node.arrive(), node.arrive()]).toEqual([undefined, undefined, "queue-full"]);
  });

  it("refuses everything once closed", () => {
    const node = setup(4, 4, 0);
    node.head.close();
    expect(node.arrive()).toBe("closed");
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { Bulkhead, type ShedCause } from "../../src/resilience/bulkhead.ts";

class Shed extends Error {
  constructor(override readonly cause: ShedCause) {
    super(cause);
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const bulkhead = (maxConcurrent: number, maxQueue: number, maxWaitMs = 0) =>
  new Bulkhead({ maxConcurrent, maxQueue, maxWaitMs }, (cause) => new Shed(cause));

describe("Bulkhead", () => {
  afterEach(() => vi.useRealTimers());

  it("runs up to maxConcurrent at once, queues up to maxQueue, sheds the rest at once", async () => {
    const head = bulkhead(2, 1);
    const gates = [deferred(), deferred(), deferred()];
    const running = gates.map((gate) => head.execute(() => gate.promise));
    expect([head.active, head.queued]).toEqual([2, 1]);
    await expect(head.execute(async () => "x")).rejects.toMatchObject({ cause: "queue-full" });
    for (const gate of gates) gate.resolve();
    await Promise.all(running);
    expect([head.active, head.queued]).toEqual([0, 0]);
  });

  it("hands a freed slot to the waiter first: never more than maxConcurrent run", async () => {
    const head = bulkhead(1, 10);
    let concurrent = 0;
    let peak = 0;
    const task = async () => {
      concurrent++;
      peak = Math.max(peak, concurrent);
      await new Promise((resolve) => setImmediate(resolve));
      concurrent--;
    };
    await Promise.all(Array.from({ length: 10 }, () => head.execute(task)));
    expect(peak).toBe(1);
  });

  it("a waiter gives up after maxWaitMs", async () => {
    vi.useFakeTimers();
    const head = bulkhead(1, 5, 100);
    const gate = deferred();
    const first = head.execute(() => gate.promise);
    const waiting = head.execute(async () => "never");
    const outcome = expect(waiting).rejects.toMatchObject({ cause: "queue-timeout" });
    await vi.advanceTimersByTimeAsync(100);
    await outcome;
    expect(head.queued).toBe(0);
    gate.resolve();
    await first;
  });

  it("abandon() withdraws a waiting call, so it never runs; a running call is not touched", async () => {
    const head = bulkhead(1, 5);
    const gate = deferred();
    const runningTicket: { abandon?: () => void } = {};
    const running = head.execute(() => gate.promise, runningTicket);
    expect(runningTicket.abandon).toBeUndefined();
    const ticket: { abandon?: () => void } = {};
    let ran = false;
    const waiting = head.execute(async () => {
      ran = true;
    }, ticket);
    ticket.abandon?.();
    await expect(waiting).rejects.toMatchObject({ cause: "abandoned" });
    expect(head.queued).toBe(0);
    gate.resolve();
    await running;
    expect(ran).toBe(false);
    expect(head.active).toBe(0);
  });

  it("a failing call frees its slot", async () => {
    const head = bulkhead(1, 0);
    await expect(head.execute(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(head.execute(async () => "ok")).resolves.toBe("ok");
  });

  it("close() refuses waiting and later calls; running ones finish", async () => {
    const head = bulkhead(1, 5);
    const gate = deferred();
    const running = head.execute(async () => {
      await gate.promise;
      return "done";
    });
    const waiting = head.execute(async () => "never");
    head.close();
    await expect(waiting).rejects.toMatchObject({ cause: "closed" });
    await expect(head.execute(async () => "x")).rejects.toMatchObject({ cause: "closed" });
    gate.resolve();
    await expect(running).resolves.toBe("done");
  });
});

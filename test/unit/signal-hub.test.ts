import { EventEmitter } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { EXIT_GRACE_MS, SignalHub, type SignalProcess } from "../../src/lifecycle/signals.ts";

/** A process whose signals are plain events, and whose kill() is recorded instead of done. */
class FakeProcess extends EventEmitter implements SignalProcess {
  readonly pid = 4242;
  exitCode: number | undefined;
  readonly killed: Array<[number, NodeJS.Signals]> = [];
  kill(pid: number, signal: NodeJS.Signals): boolean {
    this.killed.push([pid, signal]);
    return true;
  }
  signal(signal: NodeJS.Signals): void {
    this.emit(signal, signal);
  }
}

/** A shutdown that finishes when the test says so. */
function deferredTarget() {
  const calls: NodeJS.Signals[] = [];
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const target = (signal: NodeJS.Signals) => {
    calls.push(signal);
    return done;
  };
  return { calls, finish, target };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("SignalHub", () => {
  it("adds one listener per signal however many clients register, and removes it with the last", () => {
    const proc = new FakeProcess();
    const hub = new SignalHub(proc);
    const offA = hub.register(["SIGTERM", "SIGINT"], async () => {});
    const offB = hub.register(["SIGTERM"], async () => {});
    expect(proc.listenerCount("SIGTERM")).toBe(1);
    expect(proc.listenerCount("SIGINT")).toBe(1);
    offA();
    expect(proc.listenerCount("SIGTERM")).toBe(1);
    expect(proc.listenerCount("SIGINT")).toBe(0);
    offB();
    expect(proc.listenerCount("SIGTERM")).toBe(0);
  });

  it("shuts every client down once for two signals, then removes itself and re-raises the signal", async () => {
    const proc = new FakeProcess();
    const hub = new SignalHub(proc);
    const a = deferredTarget();
    const b = deferredTarget();
    hub.register(["SIGTERM", "SIGINT"], a.target);
    hub.register(["SIGTERM"], b.target);

    proc.signal("SIGTERM");
    proc.signal("SIGTERM");
    await settle();
    expect(a.calls).toEqual(["SIGTERM"]);
    expect(b.calls).toEqual(["SIGTERM"]);
    // Still listening while the work runs: a second signal must not fall back to the default (exit now).
    expect(proc.listenerCount("SIGTERM")).toBe(1);
    expect(proc.killed).toEqual([]);

    a.finish();
    await settle();
    expect(proc.killed).toEqual([]);
    b.finish();
    await settle();
    expect(proc.listenerCount("SIGTERM")).toBe(0);
    // The exit code is the signal's; the signal itself comes once the loop has emptied (exit).
    expect(proc.exitCode).toBe(143);
    expect(proc.killed).toEqual([]);
    proc.emit("exit");
    expect(proc.killed).toEqual([[4242, "SIGTERM"]]);
  });

  it("raises the signal after EXIT_GRACE_MS when the event loop does not empty, and only once", async () => {
    vi.useFakeTimers();
    try {
      const proc = new FakeProcess();
      const hub = new SignalHub(proc);
      hub.register(["SIGTERM"], async () => {});
      proc.signal("SIGTERM");
      await vi.advanceTimersByTimeAsync(EXIT_GRACE_MS - 1);
      expect(proc.killed).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(proc.killed).toEqual([[4242, "SIGTERM"]]);
      proc.emit("exit");
      expect(proc.killed).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps an exit code the app set", async () => {
    const proc = new FakeProcess();
    proc.exitCode = 3;
    new SignalHub(proc).register(["SIGTERM"], async () => {});
    proc.signal("SIGTERM");
    await settle();
    expect(proc.exitCode).toBe(3);
  });

  it("does not re-raise when another listener remains: that one owns the signal", async () => {
    const proc = new FakeProcess();
    const hub = new SignalHub(proc);
    proc.on("SIGTERM", () => {});
    hub.register(["SIGTERM"], async () => {});
    proc.signal("SIGTERM");
    await settle();
    expect(proc.listenerCount("SIGTERM")).toBe(1);
    expect(proc.killed).toEqual([]);
  });

  it("re-raises after a failed shutdown too", async () => {
    const proc = new FakeProcess();
    const hub = new SignalHub(proc);
    hub.register(["SIGINT"], () => Promise.reject(new Error("pool.end failed")));
    proc.signal("SIGINT");
    await settle();
    proc.emit("exit");
    expect(proc.exitCode).toBe(130);
    expect(proc.killed).toEqual([[4242, "SIGINT"]]);
  });

  it("a client unregistered before the signal is left alone", async () => {
    const proc = new FakeProcess();
    const hub = new SignalHub(proc);
    const gone = deferredTarget();
    const stays = deferredTarget();
    hub.register(["SIGTERM"], gone.target)();
    hub.register(["SIGTERM"], stays.target);
    proc.signal("SIGTERM");
    stays.finish();
    await settle();
    expect(gone.calls).toEqual([]);
    expect(stays.calls).toEqual(["SIGTERM"]);
  });
});

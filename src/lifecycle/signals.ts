import { constants } from "node:os";

/** The part of `process` signal handling needs; tests pass a fake. */
export interface SignalProcess {
  readonly pid: number;
  exitCode?: number | string | null | undefined;
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  once(event: "exit", listener: () => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(event: "exit", listener: () => void): unknown;
  listenerCount(signal: NodeJS.Signals): number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

/**
 * How long, after the shutdown, the event loop may take to empty (log lines being written,
 * sockets closing) before the signal is raised anyway. An app's own timer or server can keep
 * the loop busy for ever; nothing of ours does by then.
 */
export const EXIT_GRACE_MS = 250;

/** Shuts one createDb() down; resolves (or rejects) when it is done. */
export type SignalTarget = (signal: NodeJS.Signals) => Promise<void>;

/**
 * One process listener per signal for every createDb() of this process (no MaxListeners warning
 * with many clients). On a signal it shuts every registered client down, once, however many
 * times the signal comes; then it removes its listener and, if nothing else listens for that
 * signal, lets the process end as the signal would have ended it without us (exit by signal,
 * status 128 + n): see {@link endBySignal}. It never calls `process.exit`.
 */
export class SignalHub {
  readonly #process: SignalProcess;
  readonly #targets = new Map<NodeJS.Signals, Set<SignalTarget>>();
  readonly #listeners = new Map<NodeJS.Signals, (signal: NodeJS.Signals) => void>();
  /** Signals being handled: their listener stays (a second signal is absorbed) until the work is done. */
  readonly #handling = new Set<NodeJS.Signals>();

  constructor(proc: SignalProcess) {
    this.#process = proc;
  }

  /** Shuts `target` down on any of `signals`; returns a function that unregisters it. */
  register(signals: readonly NodeJS.Signals[], target: SignalTarget): () => void {
    for (const signal of signals) {
      let targets = this.#targets.get(signal);
      if (targets === undefined) {
        targets = new Set();
        this.#targets.set(signal, targets);
      }
      targets.add(target);
      if (!this.#listeners.has(signal)) {
        const listener = (received: NodeJS.Signals) => this.#onSignal(received ?? signal);
        this.#listeners.set(signal, listener);
        this.#process.on(signal, listener);
      }
    }
    return () => {
      for (const signal of signals) {
        const targets = this.#targets.get(signal);
        targets?.delete(target);
        if (targets?.size === 0 && !this.#handling.has(signal)) this.#unlisten(signal);
      }
    };
  }

  /** Whether this hub listens for `signal` now. */
  listens(signal: NodeJS.Signals): boolean {
    return this.#listeners.has(signal);
  }

  #onSignal(signal: NodeJS.Signals): void {
    if (this.#handling.has(signal)) return;
    this.#handling.add(signal);
    const targets = [...(this.#targets.get(signal) ?? [])];
    void Promise.allSettled(targets.map((target) => target(signal))).then(() => {
      this.#handling.delete(signal);
      this.#targets.get(signal)?.clear();
      this.#unlisten(signal);
      if (this.#process.listenerCount(signal) === 0) endBySignal(this.#process, signal);
    });
  }

  #unlisten(signal: NodeJS.Signals): void {
    const listener = this.#listeners.get(signal);
    if (listener === undefined) return;
    this.#listeners.delete(signal);
    this.#targets.delete(signal);
    this.#process.removeListener(signal, listener);
  }
}

/**
 * Ends the process as `signal` would have, once the rest of the process has had its say: the
 * exit code becomes the signal's (128 + n) and the signal is raised again from the `exit` event,
 * that is when the event loop has nothing left to do and after the `exit` handlers registered
 * before (pino writes the last lines of a `pino.destination({ sync: false })` in one; raised at
 * once, the signal would cut them off). If the loop is still busy after {@link EXIT_GRACE_MS},
 * the signal is raised then. Under `tsx`, whose own hidden listener takes the signal, the
 * process ends with the exit code instead.
 */
export function endBySignal(proc: SignalProcess, signal: NodeJS.Signals): void {
  proc.exitCode ??= 128 + (constants.signals[signal] ?? 0);
  const raise = () => proc.kill(proc.pid, signal);
  proc.once("exit", raise);
  const timer = setTimeout(() => {
    proc.removeListener("exit", raise);
    raise();
  }, EXIT_GRACE_MS);
  // Waiting must not be what keeps the loop busy.
  timer.unref();
}

/** The hub on the real `process`. */
export const processSignals = new SignalHub(process);

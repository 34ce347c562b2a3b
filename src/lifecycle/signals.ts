/** The part of `process` signal handling needs; tests pass a fake. */
export interface SignalProcess {
  readonly pid: number;
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  listenerCount(signal: NodeJS.Signals): number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

/** Shuts one createDb() down; resolves (or rejects) when it is done. */
export type SignalTarget = (signal: NodeJS.Signals) => Promise<void>;

/**
 * One process listener per signal for every createDb() of this process (no MaxListeners warning
 * with many clients). On a signal it shuts every registered client down, once, however many
 * times the signal comes; then it removes its listener and, if nothing else listens for that
 * signal, raises it again, so the process ends exactly as it would have without us (exit by
 * signal, status 128 + n). It never calls `process.exit`.
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
      if (this.#process.listenerCount(signal) === 0) this.#process.kill(this.#process.pid, signal);
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

/** The hub on the real `process`. */
export const processSignals = new SignalHub(process);

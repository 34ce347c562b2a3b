import { DatabaseUnavailableError } from "../errors.js";
import { SplitEvents } from "../lifecycle/events.js";
import type { DbNode } from "../nodes/db-node.js";
import type { ReplicaMonitor } from "../nodes/replica-monitor.js";
import { ReadYourWrites } from "../routing/consistency/read-your-writes.js";
import type { Router } from "../routing/router.js";
import type { ModelShape } from "./prisma-internals.js";

/** Parts of a context that only some setups have. */
export interface SplitContextParts {
  readonly readYourWrites?: ReadYourWrites;
  readonly monitor?: ReplicaMonitor;
  /** The emitter, when a part made before the context (the monitor) needs it too. */
  readonly events?: SplitEvents;
}

const OFF = new ReadYourWrites({ readYourWrites: "off", stickyMs: 0 }, () => Promise.reject(new Error("unused")));

/** What every view of one `createDb()` shares: the nodes, the router, the models, the lifecycle. */
export class SplitContext {
  readonly router: Router;
  readonly models: ReadonlyMap<string, ModelShape>;
  readonly events: SplitEvents;
  readonly readYourWrites: ReadYourWrites;
  /** Watches replica lag and roles; undefined without replicas or with `pollIntervalMs: false`. */
  readonly monitor: ReplicaMonitor | undefined;
  /** Aborted when shutdown begins: pending waits (retry back-off, ...) listen to it and stop. */
  readonly #closingController = new AbortController();
  #closing: Promise<void> | undefined;

  constructor(router: Router, models: ReadonlyMap<string, ModelShape>, parts: SplitContextParts = {}) {
    this.router = router;
    this.models = models;
    this.events = parts.events ?? new SplitEvents();
    this.readYourWrites = parts.readYourWrites ?? OFF;
    this.monitor = parts.monitor;
  }

  get nodes(): readonly DbNode[] {
    return this.router.nodes;
  }

  get closingSignal(): AbortSignal {
    return this.#closingController.signal;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The error for a call made after `$disconnect()`. */
  closedError(): DatabaseUnavailableError {
    return new DatabaseUnavailableError("prisma-split: the database client was disconnected ($disconnect())", {
      role: "primary",
      reason: "shutting-down",
    });
  }

  /** Disconnects every client and ends every pool, once. */
  close(): Promise<void> {
    if (!this.#closingController.signal.aborted) this.#closingController.abort();
    this.#closing ??= Promise.allSettled(this.nodes.map((node) => node.close())).then((results) => {
      const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
      if (failed) throw failed.reason;
    });
    return this.#closing;
  }
}

const contextOfView = new WeakMap<object, SplitContext>();

/** Remembers which context a client view belongs to (createRoutedClient does it). */
export function registerView(view: object, context: SplitContext): void {
  contextOfView.set(view, context);
}

/** The context behind a client from createDb() (internal: tests, benchmarks, health). */
export function splitContextOf(view: unknown): SplitContext | undefined {
  return typeof view === "object" && view !== null ? contextOfView.get(view) : undefined;
}

import { DatabaseUnavailableError } from "../errors.js";
import { SplitEvents } from "../lifecycle/events.js";
import type { DbNode } from "../nodes/db-node.js";
import type { CallPolicy } from "../resilience/call-policy.js";
import type { Router } from "../routing/router.js";
import type { ModelShape } from "./prisma-internals.js";

/** What every view of one `createDb()` shares: the nodes, the router, the models, the lifecycle. */
export class SplitContext {
  readonly router: Router;
  readonly models: ReadonlyMap<string, ModelShape>;
  readonly events = new SplitEvents();
  /** Shutdown gate → deadline → retry → node, around every routed call (set by createDb). */
  callPolicy: CallPolicy | undefined;
  /** Aborted when shutdown begins: pending waits (retry back-off, ...) listen to it and stop. */
  readonly #closingController = new AbortController();
  #closing: Promise<void> | undefined;

  constructor(router: Router, models: ReadonlyMap<string, ModelShape>) {
    this.router = router;
    this.models = models;
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

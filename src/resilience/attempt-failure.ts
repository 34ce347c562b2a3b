import { classifyFault, type Fault } from "./classify-fault.js";

/**
 * A failed attempt on a node: the error as the driver or Prisma threw it, and its fault, decided
 * once where the attempt failed (the breaker and the pipeline both read `fault`). The caller never
 * sees this wrapper: the pipeline unwraps it.
 */
export class AttemptFailure {
  readonly error: unknown;
  readonly fault: Fault;
  /**
   * The call waited `pool_timeout` for a connection while the node answered nothing at all: the
   * node is stalled (a black hole), not merely busy. Set by the node's layer (node-guard.ts).
   */
  stalled = false;
  /**
   * The node was pointed at another server while the attempt ran (the primary moved): the failure
   * is the old server's, and says nothing about the node's new one. Set by the node's layer.
   */
  retargeted = false;

  constructor(error: unknown) {
    this.error = error;
    this.fault = classifyFault(error);
  }

  /** What the breaker counts as a failure: a sick node, or one so stalled that nothing comes back. */
  get sickNode(): boolean {
    return !this.retargeted && (this.fault.kind === "node" || this.stalled);
  }
}

/** Wraps a node's failure (DbNode.run's error mapper), or a layer's own refusal. */
export function toAttemptFailure(error: unknown): AttemptFailure {
  return error instanceof AttemptFailure ? error : new AttemptFailure(error);
}

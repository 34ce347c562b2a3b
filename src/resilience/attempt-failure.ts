import { classifyFault, type Fault } from "./classify-fault.js";

/**
 * A failed attempt on a node: the error as the driver or Prisma threw it, and its fault, decided
 * once where the attempt failed (the breaker and the pipeline both read `fault`). The caller never
 * sees this wrapper: the pipeline unwraps it.
 */
export class AttemptFailure {
  readonly error: unknown;
  readonly fault: Fault;

  constructor(error: unknown) {
    this.error = error;
    this.fault = classifyFault(error);
  }
}

/** Wraps a node's failure (DbNode.run's error mapper), or a layer's own refusal. */
export function toAttemptFailure(error: unknown): AttemptFailure {
  return error instanceof AttemptFailure ? error : new AttemptFailure(error);
}

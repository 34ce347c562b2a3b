import type { NodePoolConfig } from "./node-overrides.js";

const PASSWORD_FUNCTION_ERROR = Symbol.for("prisma-split.PasswordFunctionError");

/**
 * A node's `password` function failed to give a password: it threw, its promise rejected, or it
 * returned something that is not a non-empty string. The message says which node and which of
 * these; it never shows what the function returned (it may be the secret in a wrong shape).
 * Nothing reached the server's query engine: the node itself may be healthy.
 */
export class PasswordFunctionError extends Error {
  override readonly name = "PasswordFunctionError";
  readonly [PASSWORD_FUNCTION_ERROR] = true;
  readonly node: string;

  constructor(node: string, problem: string, cause?: unknown) {
    super(`the password function of ${node} ${problem}`, cause === undefined ? undefined : { cause });
    this.node = node;
  }
}

/** True for a {@link PasswordFunctionError}, from any copy of prisma-split. */
export function isPasswordFunctionError(error: unknown): error is PasswordFunctionError {
  return typeof error === "object" && error !== null && PASSWORD_FUNCTION_ERROR in error;
}

/**
 * The node's pool settings with its `password` function checked: pg calls the function for every
 * new connection and would hand what it threw, or a `TypeError` without the node's name, to the
 * caller as it is. The checked function fails with a PasswordFunctionError instead, which the
 * classifier knows. A string password, or none, is left as it is.
 */
export function withCheckedPassword(driver: NodePoolConfig | undefined, node: string): NodePoolConfig | undefined {
  const source = driver?.password;
  if (typeof source !== "function") return driver;
  const checked = async (...args: unknown[]): Promise<string> => {
    let value: unknown;
    try {
      value = await (source as (...given: unknown[]) => unknown)(...args);
    } catch (error) {
      throw new PasswordFunctionError(node, `failed: ${describeThrown(error)}`, error);
    }
    if (typeof value === "string" && value !== "") return value;
    throw new PasswordFunctionError(node, `returned ${describeReturned(value)}, not a password string`);
  };
  return { ...driver, password: checked };
}

/** What was thrown: its name and message (the function's own words, e.g. the token service's error). */
function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `it threw a ${error === null ? "null" : typeof error} (not an Error)`;
}

/** The kind of value only, never the value. */
function describeReturned(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (value === "") return "an empty string";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `an object (${value.constructor?.name ?? "Object"})` : `a ${typeof value}`;
}

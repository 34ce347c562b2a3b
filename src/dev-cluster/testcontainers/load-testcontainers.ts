import { ConfigurationError } from "../../errors.js";

export type Testcontainers = typeof import("testcontainers");

const installHint = "install testcontainers (`npm install -D testcontainers@11`) and run a Docker engine";

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/**
 * testcontainers, loaded only when the testcontainers backend is asked for: it is an optional
 * peer dependency, and nothing else should pay for loading it.
 */
export async function loadTestcontainers(): Promise<Testcontainers> {
  let loaded: Testcontainers & { default?: Testcontainers };
  try {
    loaded = await import("testcontainers");
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    throw new ConfigurationError(
      "backend",
      `the testcontainers backend needs the testcontainers package: ${installHint}.`,
    );
  }
  // A CommonJS package seen from ESM: its named exports, or everything under `default` where Node cannot list them.
  return typeof loaded.GenericContainer === "function" ? loaded : (loaded.default as Testcontainers);
}

/** testcontainers' own message when it finds no Docker (or Podman) engine. */
export function isNoContainerRuntime(error: unknown): boolean {
  return error instanceof Error && /container runtime strategy/i.test(error.message);
}

/** The same failure, saying what to do about it. */
export function noContainerRuntimeError(cause: unknown): ConfigurationError {
  const error = new ConfigurationError(
    "backend",
    "the testcontainers backend needs a Docker engine, and testcontainers found none " +
      "(is Docker running? DOCKER_HOST?). Use the embedded backend (unset TEST_CLUSTER) where there is no Docker.",
  );
  error.cause = cause;
  return error;
}

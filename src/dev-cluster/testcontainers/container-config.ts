/**
 * What the containers run, as plain values: the server settings, the primary's init script and
 * the replicas' entrypoint. Pure, so it is unit-tested here even where no Docker engine runs.
 */

/** The port PostgreSQL listens on inside every container. */
export const containerPort = 5432;

/** The primary's name on the cluster's Docker network: replicas stream from `primary:5432`. */
export const primaryAlias = "primary";

/**
 * The embedded cluster's settings (src/dev-cluster/data-dir.ts), with listen_addresses opened to
 * the Docker network. Durability is traded for speed: these clusters are for development and tests.
 */
export const serverSettings: Readonly<Record<string, string>> = {
  listen_addresses: "*",
  max_connections: "100",
  wal_level: "replica",
  // Room for every replica's stream plus two senders per concurrent base backup (-X stream).
  max_wal_senders: "32",
  wal_keep_size: "512MB",
  hot_standby: "on",
  hot_standby_feedback: "on",
  wal_receiver_status_interval: "1s",
  wal_retrieve_retry_interval: "100ms",
  fsync: "off",
  synchronous_commit: "on",
  full_page_writes: "off",
};

/** `postgres -c name=value ...`: settings on the command line, so a replica's base backup needs none of its own. */
export function postgresCommand(settings: Readonly<Record<string, string>> = serverSettings): string[] {
  return ["postgres", ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`])];
}

/**
 * The official image runs /docker-entrypoint-initdb.d/*.sh once, when it creates the data dir.
 * POSTGRES_HOST_AUTH_METHOD=trust adds `host all all all trust`, and "all" does not match
 * replication connections, so the replicas' base backups and WAL streaming need their own rule.
 */
export const replicationHbaScript = `#!/bin/bash
set -euo pipefail
echo "host replication all all trust" >> "$PGDATA/pg_hba.conf"
`;

export const replicationHbaScriptPath = "/docker-entrypoint-initdb.d/10-replication-hba.sh";

/** The environment of the primary container. */
export function primaryEnvironment(database: string): Record<string, string> {
  return { POSTGRES_USER: "postgres", POSTGRES_DB: database, POSTGRES_HOST_AUTH_METHOD: "trust" };
}

/** Single-quotes `value` for bash. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** libpq connection string from a replica to the primary over the cluster's network. */
export function primaryConninfo(applicationName: string): string {
  return `host=${primaryAlias} port=${containerPort} user=postgres application_name=${applicationName}`;
}

/**
 * The replica container's `bash -c` script, run as the postgres user: on the first start, a base
 * backup of the primary with a standby.signal (-R); on every start (also after a stop or kill),
 * the server, in the foreground as the container's main process.
 */
export function replicaStartScript(name: string, command: readonly string[] = postgresCommand()): string {
  const conninfo = primaryConninfo(name);
  return [
    "set -euo pipefail",
    `if [ ! -s "$PGDATA/PG_VERSION" ]; then`,
    `  pg_basebackup --pgdata="$PGDATA" --write-recovery-conf --wal-method=stream --checkpoint=fast --no-sync --dbname=${shellQuote(conninfo)}`,
    // -R already writes a primary_conninfo; ours comes last, so it wins, and names the replica for pg_stat_replication.
    `  echo ${shellQuote(`primary_conninfo = '${conninfo}'`)} >> "$PGDATA/postgresql.auto.conf"`,
    // The server refuses a data dir others can read; the image may have created PGDATA with a wider mode.
    `  chmod 0700 "$PGDATA"`,
    "fi",
    `exec ${command.map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
}

/** The log line that says a server is up; the primary prints it twice (the image's init server, then the real one). */
export const readyLogLine = {
  primary: { pattern: /database system is ready to accept connections/, times: 2 },
  replica: { pattern: /database system is ready to accept read-only connections/, times: 1 },
} as const;

import { appendFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { chownToServerUser, runAsServerUser } from "./server-user.js";

// Tests only: durability is traded for speed. synchronous_commit stays on on purpose: with fsync
// off it costs one write() per commit, and it guarantees that pg_current_wal_lsn() already covers
// every committed transaction, which waitForReplicas() relies on.
const clusterSettings = `
# --- prisma-split test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 100
wal_level = replica
max_wal_senders = 10
wal_keep_size = '512MB'
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = '1s'
wal_retrieve_retry_interval = '100ms'
fsync = off
synchronous_commit = on
full_page_writes = off
# Keep dynamic shared memory in the data dir instead of /dev/shm, so even a SIGKILLed server leaves nothing behind.
dynamic_shared_memory_type = mmap
`;

// No "local" lines: unix sockets are disabled, so only loopback TCP is ever used.
const hbaRules = `host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
`;

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** initdb a primary data dir, configured for streaming replication, with `database` created. */
export async function initPrimaryDataDir(binDir: string, dataDir: string, database: string): Promise<void> {
  const cwd = path.dirname(dataDir);
  await runAsServerUser(
    path.join(binDir, "initdb"),
    ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
    { cwd },
  );
  await appendFile(path.join(dataDir, "postgresql.conf"), clusterSettings);
  await writeFile(path.join(dataDir, "pg_hba.conf"), hbaRules);
  if (database === "postgres") return;
  // Single-user mode creates the database without a start/connect/stop cycle of a full server.
  const { stderr } = await runAsServerUser(
    path.join(binDir, "postgres"),
    ["--single", "-D", dataDir, "-F", "postgres"],
    { cwd, input: `CREATE DATABASE ${quoteIdentifier(database)}\n` },
  );
  // Single-user mode exits 0 even when the statement failed.
  if (/\b(ERROR|FATAL):/.test(stderr)) throw new Error(`Creating database "${database}" failed:\n${stderr.trim()}`);
}

/**
 * Turns a copy of a cleanly stopped primary's data dir into a streaming standby. The copy shares
 * the primary's system identifier and last checkpoint, so it needs no base backup.
 */
export async function cloneAsReplica(
  primaryDataDir: string,
  replicaDataDir: string,
  primaryPort: number,
  applicationName: string,
): Promise<void> {
  // `cp -a` as the server user keeps modes and ownership, and is ~10x faster than fs.cp + chown.
  await runAsServerUser("cp", ["-a", primaryDataDir, replicaDataDir], { cwd: path.dirname(replicaDataDir) });
  const standbySignal = path.join(replicaDataDir, "standby.signal");
  await writeFile(standbySignal, "");
  await chownToServerUser(standbySignal);
  await appendFile(
    path.join(replicaDataDir, "postgresql.auto.conf"),
    `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres application_name=${applicationName}'\n`,
  );
}

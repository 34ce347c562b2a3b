import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { chownToServerUser, runAsServerUser } from "./server-user.js";
import { connect } from "./sql.js";

/**
 * A base backup of a running server's data dir without pg_basebackup (the embedded binaries have
 * none): PostgreSQL's low-level API. `pg_backup_start` in one session, a file copy as the server
 * user, `pg_backup_stop` in the same session, and its backup label written into the copy. The
 * copy's WAL is left out: the standby streams what it needs from the primary (wal_keep_size).
 */
export async function copyRunningDataDir(
  sourceUrl: string,
  sourceDataDir: string,
  targetDataDir: string,
): Promise<void> {
  const session = await connect(sourceUrl);
  try {
    await session.query("SELECT pg_backup_start('prisma-split rejoin', true)");
    await runAsServerUser("cp", ["-a", sourceDataDir, targetDataDir], { cwd: path.dirname(targetDataDir) });
    const { rows } = await session.query<{ labelfile: string; spcmapfile: string | null }>(
      "SELECT labelfile, spcmapfile FROM pg_backup_stop(false)",
    );
    const label = path.join(targetDataDir, "backup_label");
    await writeFile(label, rows[0]?.labelfile ?? "");
    await chownToServerUser(label);
  } finally {
    await session.end().catch(() => {});
  }
  for (const stale of ["postmaster.pid", "postmaster.opts", "standby.signal", "recovery.signal"]) {
    await rm(path.join(targetDataDir, stale), { force: true });
  }
  const wal = path.join(targetDataDir, "pg_wal");
  for (const entry of await readdir(wal)) await rm(path.join(wal, entry), { recursive: true, force: true });
  await mkdir(path.join(wal, "archive_status"), { recursive: true });
  await chownToServerUser(path.join(wal, "archive_status"));
}

import { constants } from "node:fs";
import { access, mkdir, mkdtemp, readdir, rename, statfs, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chownToServerUser } from "./server-user.js";

export const baseDirPrefix = "prisma-split-cluster-";
/**
 * Clusters with recorded processes besides their postmasters (test/ha's Patroni stack): a name of
 * their own, since a sweep that knows no recorded processes (an older checkout's) would stop the
 * postmasters, delete the pid files and leave a Patroni restarting them.
 */
export const stackDirPrefix = "prisma-split-ha-";
/** Every kind of base dir the sweep looks after. */
export const sweptDirPrefixes = [baseDirPrefix, stackDirPrefix] as const;
/** Holds the PID of the process that created the cluster, so a later sweep can tell orphans apart. */
export const ownerFileName = "owner.pid";

const sharedMemoryDir = "/dev/shm";
const minFreeBytes = 1024 ** 3;

/** Where default base dirs can be: the sweep looks in all of them. */
export function candidateParentDirs(): string[] {
  return [...new Set([sharedMemoryDir, os.tmpdir()])];
}

/**
 * tmpfs makes initdb ~2x and copying a data dir ~7x faster than a disk-backed /tmp, so prefer
 * /dev/shm when it has room (Docker's default is only 64 MB). An explicit TMPDIR always wins.
 */
async function defaultParentDir(): Promise<string> {
  if (process.env.TMPDIR) return os.tmpdir();
  try {
    await access(sharedMemoryDir, constants.W_OK);
    const { bavail, bsize } = await statfs(sharedMemoryDir);
    if (bavail * bsize >= minFreeBytes) return sharedMemoryDir;
  } catch {
    // No usable /dev/shm (e.g. macOS).
  }
  return os.tmpdir();
}

/**
 * Creates the directory holding a whole cluster (or HA stack, by `prefix`), owned by the server
 * user, with its owner file.
 *
 * The owner file appears whole or not at all (written aside, then renamed): a sweep running at
 * the same moment in another process (another `startCluster()`, a test run's global setup) that
 * read it half-written, empty, would take the new cluster for an orphan and delete it.
 */
export async function createBaseDir(
  requested?: string,
  prefix: (typeof sweptDirPrefixes)[number] = baseDirPrefix,
): Promise<string> {
  let baseDir: string;
  if (requested) {
    baseDir = path.resolve(requested);
    await mkdir(baseDir, { recursive: true, mode: 0o700 });
    if ((await readdir(baseDir)).length > 0) throw new Error(`baseDir ${baseDir} is not empty.`);
  } else {
    baseDir = await mkdtemp(path.join(await defaultParentDir(), prefix));
  }
  const ownerFile = path.join(baseDir, ownerFileName);
  await writeFile(`${ownerFile}.${process.pid}.tmp`, `${process.pid}\n`);
  await rename(`${ownerFile}.${process.pid}.tmp`, ownerFile);
  await chownToServerUser(baseDir);
  return baseDir;
}

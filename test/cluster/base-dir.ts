import { constants } from "node:fs";
import { access, mkdir, mkdtemp, readdir, statfs } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chownToServerUser } from "./server-user";

const sharedMemoryDir = "/dev/shm";
const minFreeBytes = 1024 ** 3;

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

/** Creates the directory holding a whole cluster, owned by the server user. */
export async function createBaseDir(requested?: string): Promise<string> {
  let baseDir: string;
  if (requested) {
    await mkdir(requested, { recursive: true, mode: 0o700 });
    if ((await readdir(requested)).length > 0) throw new Error(`baseDir ${requested} is not empty.`);
    baseDir = path.resolve(requested);
  } else {
    baseDir = await mkdtemp(path.join(await defaultParentDir(), "prisma-split-cluster-"));
  }
  await chownToServerUser(baseDir);
  return baseDir;
}

import { execFileSync, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { lchown } from "node:fs/promises";
import path from "node:path";

/** The OS account PostgreSQL processes run as. */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

let cachedUser: ServerUser | null | undefined;

/**
 * PostgreSQL refuses to run as root, so as root we run it as PG_SERVER_USER (default
 * "postgres"); otherwise as the current user, in which case this returns null.
 */
export function serverUser(): ServerUser | null {
  if (cachedUser !== undefined) return cachedUser;
  if (process.getuid?.() !== 0) {
    cachedUser = null;
    return cachedUser;
  }
  const name = process.env.PG_SERVER_USER || "postgres";
  try {
    const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
    cachedUser = { name, uid, gid };
    return cachedUser;
  } catch {
    throw new Error(
      `Running as root, but PostgreSQL cannot run as root and there is no OS user "${name}" to run it as. ` +
        "Create that user or set PG_SERVER_USER to an existing non-root user.",
    );
  }
}

/** Gives `target` to the server user. No-op when not running as root. */
export async function chownToServerUser(target: string): Promise<void> {
  const user = serverUser();
  if (user) await lchown(target, user.uid, user.gid);
}

// Inherited PG* variables (PGDATA, PGPORT, PGHOST...) would silently retarget initdb/pg_ctl.
function serverEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("PG")) env[key] = value;
  }
  return { ...env, LC_ALL: "C", LANG: "C" };
}

/**
 * As root, PostgreSQL runs as the server user, which must be able to reach its binaries (and
 * the data directory): a checkout under a mode-700 home (`/root`) cannot be. Names the first
 * directory on the way that the user cannot enter and says what to do.
 */
export function unreachableForServerUser(file: string, user: ServerUser, cause: Error): Error {
  const blocking = firstClosedDirectory(path.dirname(file), user);
  const where = blocking
    ? `${blocking.dir} (mode ${blocking.mode.toString(8).padStart(3, "0")}, owner uid ${blocking.uid}) does not let user "${user.name}" in`
    : `user "${user.name}" cannot execute it`;
  return Object.assign(
    new Error(
      `Running as root, PostgreSQL must run as "${user.name}" (it refuses root), but ${where}, so it cannot run ${file}. ` +
        `Either move the project (or its node_modules) to a directory "${user.name}" can read, e.g. under /srv or /tmp; ` +
        `or open the way: chmod o+x ${blocking?.dir ?? path.dirname(file)}; or set PG_BIN to a PostgreSQL bin directory ` +
        `it can read (e.g. /usr/lib/postgresql/<version>/bin); or set PG_SERVER_USER to another non-root user.`,
    ),
    { code: "EACCES", cause },
  );
}

function firstClosedDirectory(dir: string, user: ServerUser): { dir: string; mode: number; uid: number } | undefined {
  const chain: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    chain.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const candidate of chain) {
    let info: { mode: number; uid: number; gid: number };
    try {
      info = statSync(candidate);
    } catch {
      return undefined;
    }
    const bit = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) return { dir: candidate, mode: info.mode & 0o777, uid: info.uid };
  }
  return undefined;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a PostgreSQL program as the server user; rejects with its output if it exits non-zero. */
export function runAsServerUser(
  file: string,
  args: string[],
  options: { cwd: string; input?: string },
): Promise<RunResult> {
  const user = serverUser();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: serverEnvironment(),
      stdio: ["pipe", "pipe", "pipe"],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EACCES" && user ? unreachableForServerUser(file, user, error) : error),
    );
    child.on("close", (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const command = [path.basename(file), ...args].join(" ");
      const output = `${stderr}${stdout}`.trim();
      reject(new Error(`\`${command}\` failed (${signal ?? `exit code ${code}`})${output ? `:\n${output}` : ""}`));
    });
    // A program that exits without reading its stdin (pg_ctl) closes the pipe: EPIPE is not a failure, its exit code says.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

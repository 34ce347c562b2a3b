import { execFileSync, spawn } from "node:child_process";
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
    child.on("error", reject);
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

import { spawn } from "node:child_process";

/**
 * A command a README runs "in another terminal": it stays in the foreground until Ctrl-C. Started
 * in a process group of its own, so that interrupt() sends SIGINT to every process of it (sh, npm,
 * the command) as a terminal's Ctrl-C does, and nothing else.
 */
export interface OtherTerminal {
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once `done(stdout, stderr)` holds; rejects when the command ends first or at the deadline. */
  waitFor(what: string, done: (stdout: string, stderr: string) => boolean, timeoutMs: number): Promise<void>;
  /** Ctrl-C, then waits until every process of the group has ended; SIGKILL if they have not by the deadline. */
  interrupt(timeoutMs: number): Promise<"interrupted" | "killed" | "had ended">;
}

const pollMs = 100;

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

export function startInOtherTerminal(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }): OtherTerminal {
  const child = spawn("sh", ["-c", command], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`\`${command}\` did not start.`);
  let stdout = "";
  let stderr = "";
  let exit: string | undefined;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.on("exit", (code, signal) => (exit = signal ? `was killed by ${signal}` : `exited with ${code}`));
  const describe = () => `\`${command}\`\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;

  return {
    command,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    async waitFor(what, done, timeoutMs) {
      const settled = await until(() => done(stdout, stderr) || exit !== undefined, timeoutMs);
      if (done(stdout, stderr)) return;
      throw new Error(
        settled ? `${describe()}\n${exit} before ${what}` : `${describe()}\nno ${what} within ${timeoutMs} ms`,
      );
    },
    async interrupt(timeoutMs) {
      if (!groupAlive(pgid)) return "had ended";
      process.kill(-pgid, "SIGINT");
      if (await until(() => !groupAlive(pgid), timeoutMs)) return "interrupted";
      process.kill(-pgid, "SIGKILL");
      await until(() => !groupAlive(pgid), timeoutMs);
      return "killed";
    },
  };
}

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** How the app's process ended. */
export interface AppExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * How the script is run: `node --import tsx` (one process, as in production), or the `tsx`
 * command (a parent that relays signals to the app's process, as `npm run example:*` runs it).
 */
export type AppRunner = "node" | "tsx";

/**
 * An example's server.ts running in its own Node process, as it would in production: its own
 * prisma-split client and pools, its own signal handling. Its output lines are kept, with the
 * time (`performance.now()`) each arrived.
 */
export class AppProcess {
  readonly lines: string[] = [];
  readonly arrivedAt: number[] = [];
  readonly exited: Promise<AppExit>;
  #url: string | undefined;
  readonly #child: ChildProcess;

  private constructor(script: string, env: Record<string, string>, runner: AppRunner) {
    const [command, ...args] =
      runner === "tsx"
        ? [path.join(root, "node_modules/.bin/tsx"), path.join(root, script)]
        : [process.execPath, "--import", "tsx", path.join(root, script)];
    this.#child = spawn(command as string, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let partial = "";
    const collect = (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
      const now = performance.now();
      this.arrivedAt.push(...parts.map(() => now));
    };
    this.#child.stdout?.setEncoding("utf8").on("data", collect);
    this.#child.stderr?.setEncoding("utf8").on("data", collect);
    this.exited = once(this.#child, "exit").then(([code, signal]) => ({ code, signal }) as AppExit);
  }

  /** Starts `script` and waits until it prints the URL it listens on. */
  static async start(
    script: string,
    env: Record<string, string>,
    { timeoutMs = 30_000, runner = "node" }: { timeoutMs?: number; runner?: AppRunner } = {},
  ): Promise<AppProcess> {
    const app = new AppProcess(script, env, runner);
    const deadline = Date.now() + timeoutMs;
    while (app.#url === undefined) {
      app.#url = app.lines.map((line) => /listening on (http:\/\/\S+)/.exec(line)?.[1]).find(Boolean);
      if (app.#url !== undefined) break;
      if (!app.running || Date.now() > deadline) {
        app.#child.kill("SIGKILL");
        throw new Error(`${script} did not start:\n${app.lines.join("\n")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return app;
  }

  get url(): string {
    return this.#url as string;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }

  /** Ends the process whatever it is doing: SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  async stop(graceMs = 3_000): Promise<AppExit> {
    if (this.running) {
      this.#child.kill("SIGTERM");
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
      await this.exited.finally(() => clearTimeout(timer));
    }
    return this.exited;
  }
}

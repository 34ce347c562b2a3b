import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ChildLine {
  event: string;
  [key: string]: unknown;
}

/**
 * A fixture script running in its own Node process (`node --import tsx`, or with `runner: "tsx"`
 * under the `tsx` command: a parent process that relays signals to the script's), reporting JSON
 * lines on stdout.
 */
export class ChildApp {
  readonly process: ChildProcess;
  readonly lines: ChildLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = "";
  #waiters: Array<() => void> = [];

  constructor(script: string, env: Record<string, string>, runner: "node" | "tsx" = "node") {
    const [command, ...args] =
      runner === "tsx"
        ? [path.join(root, "node_modules/.bin/tsx"), path.join(root, script)]
        : [process.execPath, "--import", "tsx", path.join(root, script)];
    this.process = spawn(command as string, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffered = "";
    this.process.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const complete = buffered.split("\n");
      buffered = complete.pop() ?? "";
      for (const line of complete) {
        if (line.startsWith("{")) this.lines.push(JSON.parse(line) as ChildLine);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.process.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.process.once("exit", (code, signal) => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve({ code, signal });
      });
    });
  }

  /** Lines of one event. */
  events(event: string): ChildLine[] {
    return this.lines.filter((line) => line.event === event);
  }

  /** Waits until a line of `event` has been printed (at least `count` of them). */
  async waitFor(event: string, count = 1, timeoutMs = 20_000): Promise<ChildLine[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events(event).length < count) {
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new Error(`child exited before printing ${event}: ${this.stderr}`);
      }
      if (Date.now() > deadline) throw new Error(`no ${event} line within ${timeoutMs} ms; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events(event);
  }

  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }
}

import { spawn } from "node:child_process";

export interface CommandResult {
  readonly command: string;
  readonly code: number | null;
  /** Set when the process was killed, e.g. by the timeout. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CommandOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs a command to completion and reports how it ended; never rejects on a failing command. */
export function runCommand(file: string, args: string[], options: CommandOptions): Promise<CommandResult> {
  const command = [file, ...args].join(" ");
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 120_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ command, code, signal, stdout, stderr, ms: Math.round(performance.now() - started) }),
    );
  });
}

/** Like runCommand(), but a non-zero exit or a kill is an error that carries the command's output. */
export async function runCommandOk(file: string, args: string[], options: CommandOptions): Promise<CommandResult> {
  const result = await runCommand(file, args, options);
  if (result.code !== 0) throw new Error(describeFailure(result));
  return result;
}

export function describeFailure(result: CommandResult): string {
  const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.code}`;
  return `\`${result.command}\` ${how} after ${result.ms} ms\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

import { readFile } from "node:fs/promises";
import path from "node:path";
import { runningPostmasterPid } from "./postmaster.js";
import { runAsServerUser } from "./server-user.js";
import { nodeUrl, queryOnce } from "./sql.js";
import type { DevNode, NodeRole, StopMode } from "./types.js";

export interface EmbeddedNodeOptions {
  name: string;
  role: NodeRole;
  port: number;
  dataDir: string;
  logFile: string;
  binDir: string;
  database: string;
}

/** One PostgreSQL server of an embedded cluster: a process on this machine, controlled through pg_ctl. */
export class EmbeddedNode implements DevNode {
  readonly name: string;
  /** Changed by the cluster when it moves the primary. */
  role: NodeRole;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly database: string;
  private readonly binDir: string;

  constructor(options: EmbeddedNodeOptions) {
    this.name = options.name;
    this.role = options.role;
    this.port = options.port;
    this.dataDir = options.dataDir;
    this.logFile = options.logFile;
    this.binDir = options.binDir;
    this.database = options.database;
  }

  get url(): string {
    return nodeUrl("127.0.0.1", this.port, this.database);
  }

  isRunning(): boolean {
    return runningPostmasterPid(this.dataDir) !== null;
  }

  /** Starts the server and waits until it accepts connections (read-only ones, for a replica). No-op if running. */
  async start(): Promise<void> {
    if (this.isRunning()) return;
    try {
      await this.pgCtl(["-l", this.logFile, "-o", `-p ${this.port}`, "-t", "60", "start"]);
    } catch (error) {
      const logTail = await this.logTail();
      throw new Error(
        `${this.name} (${this.role}, port ${this.port}) failed to start: ${(error as Error).message}\n` +
          `--- last lines of ${this.logFile} ---\n${logTail}`,
      );
    }
  }

  /** Stops the server; "immediate" skips the shutdown checkpoint, like a crash. No-op if not running. */
  async stop(mode: StopMode = "fast"): Promise<void> {
    if (!this.isRunning()) return;
    try {
      await this.pgCtl(["-m", mode, "-t", "60", "stop"]);
    } catch (error) {
      if (this.isRunning()) throw new Error(`${this.name} failed to stop: ${(error as Error).message}`);
    }
  }

  /** What chaos tests call a crash: no checkpoint, clients see their connections drop. */
  kill(): Promise<void> {
    return this.stop("immediate");
  }

  async restart(mode: StopMode = "fast"): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** Runs one statement on a fresh connection and returns its rows. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<Row[]> {
    return queryOnce<Row>(this.url, sql, params);
  }

  async logTail(lines = 30): Promise<string> {
    try {
      return (await readFile(this.logFile, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log file)";
    }
  }

  private async pgCtl(args: string[]): Promise<void> {
    await runAsServerUser(path.join(this.binDir, "pg_ctl"), ["-w", "-D", this.dataDir, ...args], {
      cwd: path.dirname(this.dataDir),
    });
  }
}

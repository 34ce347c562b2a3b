import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { runningPostmasterPid } from "./postmaster";
import { runAsServerUser } from "./server-user";

export type NodeRole = "primary" | "replica";
export type StopMode = "fast" | "immediate";

export interface PgNodeOptions {
  name: string;
  role: NodeRole;
  port: number;
  dataDir: string;
  logFile: string;
  binDir: string;
  database: string;
}

/** One PostgreSQL server of a test cluster, controlled through pg_ctl. */
export class PgNode {
  readonly name: string;
  readonly role: NodeRole;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly database: string;
  private readonly binDir: string;

  constructor(options: PgNodeOptions) {
    this.name = options.name;
    this.role = options.role;
    this.port = options.port;
    this.dataDir = options.dataDir;
    this.logFile = options.logFile;
    this.binDir = options.binDir;
    this.database = options.database;
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${encodeURIComponent(this.database)}`;
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
  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000 });
    // Without a listener, a server dying mid-query would also crash the process via an 'error' event.
    client.on("error", () => {});
    await client.connect();
    try {
      return (await client.query<Row>(sql, params)).rows;
    } finally {
      await client.end().catch(() => {});
    }
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

import { writeFileSync } from "node:fs";
import path from "node:path";
import { runningPostmasterPid } from "../../../src/dev-cluster/postmaster.ts";
import { chownToServerUser } from "../../../src/dev-cluster/server-user.ts";
import { signalPid, startDaemon } from "./daemon.ts";
import { type MemberLayout, PASSWORDS, patroniConfig } from "./patroni-config.ts";
import type { HaTools } from "./tools.ts";

/** Teardown stage: after HAProxy, before etcd. */
export const PATRONI_STAGE = 20;

/** One Patroni member and the PostgreSQL it manages. */
export class PatroniMember implements MemberLayout {
  readonly configFile: string;
  readonly logFile: string;
  readonly dataDir: string;
  readonly pgpassFile: string;
  readonly socketDir: string;
  #pid: number | undefined;

  constructor(
    readonly name: string,
    readonly pgPort: number,
    readonly restPort: number,
    private readonly baseDir: string,
    private readonly tools: HaTools,
  ) {
    this.configFile = path.join(baseDir, `${name}.yml`);
    this.logFile = path.join(baseDir, `${name}.log`);
    this.dataDir = path.join(baseDir, name);
    this.pgpassFile = path.join(baseDir, `${name}.pgpass`);
    this.socketDir = baseDir;
  }

  async writeConfig(etcdHosts: string): Promise<void> {
    writeFileSync(this.configFile, patroniConfig(this, etcdHosts, this.tools.pgBinDir));
    await chownToServerUser(this.configFile);
  }

  /** Starts Patroni (as the server user); it bootstraps, clones or restarts its PostgreSQL. */
  start(): void {
    this.#pid = startDaemon(this.baseDir, {
      name: `patroni-${this.name}`,
      stage: PATRONI_STAGE,
      file: this.tools.patroni,
      args: [this.configFile],
      identity: this.configFile,
      logFile: this.logFile,
      asServerUser: true,
    });
  }

  get patroniPid(): number | undefined {
    return this.#pid;
  }

  /** The running postmaster's pid (first line of postmaster.pid, checked against its command line). */
  postmasterPid(): number | null {
    return runningPostmasterPid(this.dataDir);
  }

  /** `kill -9` of the postmaster: Patroni restarts it in place (a same-host restart). */
  killPostmaster(): number {
    const pid = this.postmasterPid();
    if (pid === null) throw new Error(`${this.name}: no running postmaster to kill`);
    signalPid(pid, "SIGKILL");
    return pid;
  }

  /** `kill -9` of Patroni and its postmaster together: the leader key expires after `ttl`. */
  killPatroniAndPostmaster(): void {
    const postmaster = this.postmasterPid();
    if (this.#pid !== undefined) signalPid(this.#pid, "SIGKILL");
    if (postmaster !== null) signalPid(postmaster, "SIGKILL");
    this.#pid = undefined;
  }

  /** HTTP status of Patroni's REST `GET <route>` (`/primary`, `/replica`, `/health`), or 0 if it does not answer. */
  async rest(route: string, timeoutMs = 2_000): Promise<number> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.restPort}${route}`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  /** A URL of this member's server itself (not through HAProxy). */
  url(database = "app"): string {
    return `postgresql://postgres:${PASSWORDS.superuser}@127.0.0.1:${this.pgPort}/${database}`;
  }
}

import { createBaseDir, stackDirPrefix } from "../../../src/dev-cluster/base-dir.ts";
import { destroyClusterSync, type TrackedCluster, trackCluster } from "../../../src/dev-cluster/cleanup.ts";
import { applyMigrations } from "../../../src/dev-cluster/migrate.ts";
import { queryOnce } from "../../../src/dev-cluster/sql.ts";
import { logTail, runTool, waitFor } from "./daemon.ts";
import { startEtcd } from "./etcd.ts";
import { HaProxy } from "./haproxy.ts";
import { PatroniMember } from "./patroni.ts";
import { PASSWORDS, SCOPE } from "./patroni-config.ts";
import { chooseHaPorts, type HaPorts } from "./ports.ts";
import type { HaTools } from "./tools.ts";

/** A row of `patronictl list -f json` (Patroni 3.0 has no "streaming" state yet). */
export interface MemberStatus {
  readonly Member: string;
  readonly Role: string;
  readonly State: string;
  readonly TL?: number;
  readonly "Lag in MB"?: number | string;
}

const DATABASE = "app";
/** A table of the app's database the suite's watcher commits rows to, to see when commits go through. */
export const WATCH_TABLE = "ha_watch";

/**
 * etcd, three Patroni members on the system's PostgreSQL and HAProxy in front of them, all on
 * 127.0.0.1 in one directory the dev cluster's sweep knows (`prisma-split-ha-*`), every process
 * recorded by pid: `stop()`, the process's exit and signal handlers (see dev-cluster/cleanup.ts)
 * and the sweep of a later run (a killed runner) stop them by pid, HAProxy first, then Patroni,
 * then any postmaster a killed Patroni left, then etcd.
 */
export class HaStack implements TrackedCluster {
  readonly members: readonly [PatroniMember, PatroniMember, PatroniMember];
  readonly haproxy: HaProxy;

  private constructor(
    readonly baseDir: string,
    readonly ports: HaPorts,
    readonly tools: HaTools,
  ) {
    const member = (i: 0 | 1 | 2) => new PatroniMember(`m${i}`, ports.postgres[i], ports.rest[i], baseDir, tools);
    this.members = [member(0), member(1), member(2)];
    this.haproxy = new HaProxy(baseDir, tools, ports);
  }

  get dataDirs(): string[] {
    return this.members.map((member) => member.dataDir);
  }

  /** Starts the whole stack (~20–40 s) and waits until it is healthy; on failure stops what started. */
  static async start(tools: HaTools): Promise<HaStack> {
    const stack = new HaStack(await createBaseDir(undefined, stackDirPrefix), await chooseHaPorts(), tools);
    trackCluster(stack);
    try {
      const { endpoint } = await startEtcd(stack.baseDir, tools, stack.ports);
      await Promise.all(stack.members.map((member) => member.writeConfig(endpoint)));
      const [first, ...others] = stack.members;
      // One member bootstraps the cluster; the others clone it with pg_basebackup.
      first.start();
      await waitFor(
        "the first member to lead",
        async () => ((await first.rest("/primary")) === 200 ? true : undefined),
        {
          timeoutMs: 90_000,
          intervalMs: 500,
          explain: () => logTail(first.logFile),
        },
      );
      await queryOnce(first.url("postgres"), `CREATE DATABASE ${DATABASE}`);
      await applyMigrations(first.url(DATABASE));
      await queryOnce(
        first.url(DATABASE),
        `CREATE TABLE ${WATCH_TABLE} (at timestamptz NOT NULL DEFAULT clock_timestamp())`,
      );
      for (const member of others) member.start();
      await stack.haproxy.start(stack.members);
      await stack.waitHealthy(120_000);
      return stack;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  /** HAProxy's primary port and replica port, as an app would configure them. */
  get haproxyUrls(): { primary: string; replicas: string } {
    const at = (port: number) => `postgresql://postgres:${PASSWORDS.superuser}@127.0.0.1:${port}/${DATABASE}`;
    return { primary: at(this.ports.haproxyPrimary), replicas: at(this.ports.haproxyReplicas) };
  }

  /** One libpq multi-host URL listing the three members. */
  get multiHostUrl(): string {
    const hosts = this.members.map((member) => `127.0.0.1:${member.pgPort}`).join(",");
    return `postgresql://postgres:${PASSWORDS.superuser}@${hosts}/${DATABASE}?target_session_attrs=read-write`;
  }

  member(name: string): PatroniMember {
    const found = this.members.find((member) => member.name === name);
    if (!found) throw new Error(`no member ${name}`);
    return found;
  }

  /** `patronictl -c <m0.yml> <args>`; rejects when it says it failed (it exits 0 on a refused switchover). */
  async patronictl(args: readonly string[]): Promise<string> {
    const output = await runTool(this.tools.patronictl, ["-c", this.members[0].configFile, ...args], this.baseDir);
    const failure = /^(?!.*\bSuccessfully\b).*\bfailed\b.*$/im.exec(output);
    if (failure) throw new Error(`patronictl ${args.join(" ")}: ${failure[0]}`);
    return output;
  }

  async list(): Promise<MemberStatus[]> {
    return JSON.parse(await this.patronictl(["list", "-f", "json"])) as MemberStatus[];
  }

  /** The member that holds the leader key and runs as primary, if one does. */
  async leader(): Promise<PatroniMember | undefined> {
    const row = (await this.list()).find((status) => status.Role === "Leader" && status.State === "running");
    return row === undefined ? undefined : this.member(row.Member);
  }

  switchover(leader: string, candidate: string): Promise<string> {
    return this.patronictl(["switchover", SCOPE, "--leader", leader, "--candidate", candidate, "--force"]);
  }

  failover(candidate: string): Promise<string> {
    return this.patronictl(["failover", SCOPE, "--candidate", candidate, "--force"]);
  }

  restart(member: string): Promise<string> {
    return this.patronictl(["restart", SCOPE, member, "--force"]);
  }

  /**
   * Until one leader runs, two replicas stream from it, and HAProxy agrees: the leader is the one
   * server up on the primary port, the other two the ones up on the replica port.
   */
  async waitHealthy(timeoutMs = 90_000): Promise<PatroniMember> {
    let last = "";
    return waitFor(
      "the HA stack to be healthy (a leader, two streaming replicas, HAProxy agreeing)",
      async () => {
        const rows = await this.list();
        const states = await this.haproxy.serverStates();
        last = `${JSON.stringify(rows)}\nHAProxy: ${JSON.stringify(states)}`;
        const leaders = rows.filter((row) => row.Role === "Leader" && row.State === "running");
        if (leaders.length !== 1) return undefined;
        const leader = leaders[0]?.Member as string;
        // Patroni 3.0 lists a replica as "running" before it streams: ask the leader.
        const streaming = await queryOnce<{ name: string }>(
          this.member(leader).url(),
          "SELECT application_name AS name FROM pg_stat_replication WHERE state = 'streaming'",
        );
        if (streaming.length !== 2) return undefined;
        const up = (listener: "primary" | "replicas") =>
          Object.entries(states[listener])
            .filter(([, state]) => state === "UP")
            .map(([server]) => server)
            .sort();
        if (up("primary").join() !== leader) return undefined;
        if (
          up("replicas").join() !==
          streaming
            .map((row) => row.name)
            .sort()
            .join()
        )
          return undefined;
        return this.member(leader);
      },
      {
        timeoutMs,
        intervalMs: 500,
        explain: () => `${last}\n${this.members.map((m) => `${m.name}: ${logTail(m.logFile, 8)}`).join("\n")}`,
      },
    );
  }

  /** Stops every process by its recorded pid and removes the directory; idempotent. */
  async stop(): Promise<void> {
    destroyClusterSync(this);
  }
}

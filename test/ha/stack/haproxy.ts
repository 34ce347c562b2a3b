import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { logTail, startDaemon, waitFor } from "./daemon.ts";
import type { PatroniMember } from "./patroni.ts";
import type { HaPorts } from "./ports.ts";
import type { HaTools } from "./tools.ts";

/** Teardown stage: first, so no client reaches a member that is stopping. */
export const HAPROXY_STAGE = 10;

/** The two listeners of the standard Patroni set-up. */
export type HaProxyListener = "primary" | "replicas";

/**
 * HAProxy's configuration as Patroni's documentation gives it: a TCP port to the member whose
 * REST `GET /primary` answers 200, a port round-robin over those whose `GET /replica` does; each
 * server checked on its REST port every 3 s, down after 3 failed checks, up after 2, its sessions
 * cut when it is marked down. Plus an admin socket, for the suite's "backend flip".
 */
function haproxyConfig(members: readonly PatroniMember[], ports: HaPorts, socket: string): string {
  const servers = members.map(
    (member) => `    server ${member.name} 127.0.0.1:${member.pgPort} maxconn 100 check port ${member.restPort}`,
  );
  const listener = (name: HaProxyListener, port: number, route: string, extra: string[]) =>
    [
      `listen ${name}`,
      `    bind 127.0.0.1:${port}`,
      ...extra,
      `    option httpchk GET ${route}`,
      "    http-check expect status 200",
      "    default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions",
      ...servers,
    ].join("\n");
  return `global
    maxconn 1000
    stats socket ${socket} mode 600 level admin

defaults
    mode tcp
    retries 2
    timeout client 30m
    timeout connect 4s
    timeout server 30m
    timeout check 5s

${listener("primary", ports.haproxyPrimary, "/primary", [])}

${listener("replicas", ports.haproxyReplicas, "/replica", ["    balance roundrobin"])}
`;
}

/** HAProxy in front of the members, and its runtime API (the admin socket). */
export class HaProxy {
  readonly configFile: string;
  readonly logFile: string;
  readonly socket: string;

  constructor(
    private readonly baseDir: string,
    private readonly tools: HaTools,
    readonly ports: HaPorts,
  ) {
    this.configFile = path.join(baseDir, "haproxy.cfg");
    this.logFile = path.join(baseDir, "haproxy.log");
    this.socket = path.join(baseDir, "haproxy.sock");
  }

  async start(members: readonly PatroniMember[]): Promise<void> {
    writeFileSync(this.configFile, haproxyConfig(members, this.ports, this.socket));
    startDaemon(this.baseDir, {
      name: "haproxy",
      stage: HAPROXY_STAGE,
      // -db: in the foreground, so the pid recorded is HAProxy's own.
      file: this.tools.haproxy,
      args: ["-db", "-f", this.configFile],
      identity: this.configFile,
      logFile: this.logFile,
      asServerUser: false,
    });
    await waitFor("HAProxy's admin socket", () => this.command("show info").then(() => true), {
      timeoutMs: 10_000,
      explain: () => logTail(this.logFile),
    });
  }

  /** One runtime API command; its answer. */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.socket);
      let answer = "";
      socket.setTimeout(5_000, () => socket.destroy(new Error(`HAProxy did not answer \`${line}\``)));
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      socket.on("error", reject);
      socket.on("end", () => resolve(answer));
      socket.write(`${line}\n`);
    });
  }

  /** Each server's check status per listener (`UP`, `DOWN`, `MAINT`, `UP 1/2`...). */
  async serverStates(): Promise<Record<HaProxyListener, Record<string, string>>> {
    const [header, ...rows] = (await this.command("show stat")).trim().split("\n");
    const columns = (header ?? "").replace(/^# /, "").split(",");
    const at = (name: string) => columns.indexOf(name);
    const states: Record<HaProxyListener, Record<string, string>> = { primary: {}, replicas: {} };
    for (const row of rows) {
      const cells = row.split(",");
      const listener = cells[at("pxname")] as HaProxyListener;
      const server = cells[at("svname")] as string;
      if (!(listener in states) || server === "FRONTEND" || server === "BACKEND") continue;
      states[listener][server] = cells[at("status")] as string;
    }
    return states;
  }

  /** Puts a server of a listener in maintenance (its sessions cut), or back to checked service. */
  async setMaintenance(listener: HaProxyListener, server: string, on: boolean): Promise<void> {
    await this.command(`set server ${listener}/${server} state ${on ? "maint" : "ready"}`);
    if (on) await this.command(`shutdown sessions server ${listener}/${server}`);
  }
}

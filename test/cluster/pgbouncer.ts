import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { findFreePorts } from "../../src/dev-cluster/ports.ts";
import { serverUser } from "../../src/dev-cluster/server-user.ts";
import type { DevCluster } from "../../src/dev-cluster/types.ts";

/** Where Debian's `pgbouncer` package puts it; PGBOUNCER overrides. */
export function pgbouncerBinary(): string | undefined {
  const candidates = [process.env.PGBOUNCER, "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].filter(Boolean) as string[];
  const found = candidates.find((file) => existsSync(file));
  if (found) return found;
  try {
    return execFileSync("sh", ["-c", "command -v pgbouncer"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Said loudly where PgBouncer is missing: the tests that need it skip, and say why. */
export const PGBOUNCER_MISSING =
  "PgBouncer is not installed: the PgBouncer tests are SKIPPED. Install it with " +
  "`apt-get update && apt-get install -y pgbouncer` (.ci/run does), or set PGBOUNCER to its path.";

export interface PgBouncer {
  readonly port: number;
  /** `postgresql://<user>@127.0.0.1:<port>/<alias>?pgbouncer=true` for each node, by node name. */
  url(node: string, user?: string): string;
  stop(): Promise<void>;
}

/**
 * PgBouncer in transaction mode in front of every node of `cluster` (the database alias is the
 * node's name), run as the server user (PgBouncer refuses root). `postgres` is trusted; `users`
 * authenticate with scram-sha-256 against the plain-text passwords given here, which PgBouncer
 * also uses to log in to the server.
 */
export interface PgBouncerOptions {
  /** Client-side TLS, required of every client: PEM files PgBouncer presents. */
  tls?: { certFile: string; keyFile: string };
  /** More `[pgbouncer]` settings, e.g. `{ query_wait_timeout: "2" }`. */
  settings?: Record<string, string>;
}

export async function startPgBouncer(
  cluster: DevCluster,
  users: Record<string, string> = {},
  options: PgBouncerOptions = {},
): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error(PGBOUNCER_MISSING);
  const [port] = (await findFreePorts(1)) as [number];
  const dir = mkdtempSync(path.join(os.tmpdir(), "prisma-split-pgbouncer-"));
  const [database] = new URL(cluster.primaryUrl).pathname.slice(1).split("?");
  const databases = cluster.nodes.map((node) => `${node.name} = host=127.0.0.1 port=${node.port} dbname=${database}`);
  const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;
  writeFileSync(
    path.join(dir, "userlist.txt"),
    [`"postgres" ""`, ...Object.entries(users).map(([user, pw]) => `${quoted(user)} ${quoted(pw)}`)].join("\n"),
  );
  writeFileSync(
    path.join(dir, "hba.conf"),
    [
      ...Object.keys(users).map((user) => `host all ${user} 127.0.0.1/32 scram-sha-256`),
      "host all all 127.0.0.1/32 trust",
    ].join("\n"),
  );
  writeFileSync(
    path.join(dir, "pgbouncer.ini"),
    `[databases]
${databases.join("\n")}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = hba
auth_file = ${dir}/userlist.txt
auth_hba_file = ${dir}/hba.conf
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
admin_users = postgres
${tlsLines(dir, options.tls).join("\n")}
${Object.entries(options.settings ?? {})
  .map(([key, value]) => `${key} = ${value}`)
  .join("\n")}
`,
  );
  if (options.tls) {
    copyFileSync(options.tls.certFile, path.join(dir, "tls.crt"));
    copyFileSync(options.tls.keyFile, path.join(dir, "tls.key"));
    chmodSync(path.join(dir, "tls.key"), 0o600);
  }
  const user = serverUser();
  if (user) {
    for (const file of [
      "",
      "userlist.txt",
      "hba.conf",
      "pgbouncer.ini",
      ...(options.tls ? ["tls.crt", "tls.key"] : []),
    ]) {
      chownSync(path.join(dir, file), user.uid, user.gid);
    }
    chmodSync(path.join(dir, "userlist.txt"), 0o600);
  }
  const child = spawn(binary, [path.join(dir, "pgbouncer.ini")], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitForPort(port, child, () => output);
  return {
    port,
    url: (node, as = "postgres") => `postgresql://${as}@127.0.0.1:${port}/${node}?pgbouncer=true`,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}):\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`pgbouncer did not listen on ${port} within 10 s:\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

function tlsLines(dir: string, tls: PgBouncerOptions["tls"]): string[] {
  if (!tls) return [];
  return [
    "client_tls_sslmode = require",
    `client_tls_cert_file = ${dir}/tls.crt`,
    `client_tls_key_file = ${dir}/tls.key`,
  ];
}

/** A throwaway self-signed certificate for 127.0.0.1 in `dir` (`cert.pem`, `key.pem`), made with openssl. */
export function writeSelfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  const subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", ...subject, "-keyout", key, "-out", cert],
    {
      stdio: "ignore",
    },
  );
  return { cert, key };
}

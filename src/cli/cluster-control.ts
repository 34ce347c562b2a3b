import { readdirSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { runningPostmasterPid } from "../dev-cluster/postmaster.js";
import type { DevCluster, DevNode } from "../dev-cluster/types.js";

/** What `cluster stop|start|kill <node>` asks of the running `cluster up`; `status` changes nothing. */
export const controlActions = ["stop", "start", "kill", "status"] as const;
export type ControlAction = (typeof controlActions)[number];

export interface NodeProcess {
  readonly name: string;
  readonly role: string;
  readonly port: number;
  readonly running: boolean;
  /** The postmaster's PID; undefined when stopped or in a container. */
  readonly pid: number | undefined;
  /** undefined for containers. */
  readonly dataDir: string | undefined;
}

interface ControlReply {
  readonly ok: boolean;
  readonly message: string;
  readonly nodes: readonly NodeProcess[];
}

const SOCKET_NAME = /^prisma-split-cluster-(\d+)\.sock$/;

/**
 * `cluster up` listens on this socket, named after its primary's port, so a second terminal can
 * stop, start or kill one node of it (`--port` picks the cluster when several run).
 */
export function controlSocketPath(primaryPort: number): string {
  return path.join(os.tmpdir(), `prisma-split-cluster-${primaryPort}.sock`);
}

/**
 * The primary port of the one `cluster up` running on this machine (its control socket answers),
 * so that `--port`, given to `up`, need not be given again. Rejects, saying what to do, when none
 * or several run.
 */
export async function runningClusterPort(): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    names = [];
  }
  const ports = names.flatMap((name) => {
    const match = SOCKET_NAME.exec(name);
    return match === null ? [] : [Number(match[1])];
  });
  // A socket file outlives a `cluster up` that was killed: only one that answers counts.
  const answers = await Promise.all(
    ports.map((port) =>
      requestClusterControl(port, "status", undefined).then(
        () => true,
        () => false,
      ),
    ),
  );
  const live = ports.filter((_, index) => answers[index]);
  if (live.length === 1) return live[0] as number;
  throw new Error(
    live.length === 0
      ? "no `prisma-split cluster up` is running on this machine."
      : `several \`prisma-split cluster up\` are running (primary ports ${live.join(", ")}): pass --port to pick one.`,
  );
}

export function describeNode(node: DevNode): NodeProcess {
  const dataDir = (node as { dataDir?: unknown }).dataDir;
  const dir = typeof dataDir === "string" ? dataDir : undefined;
  const pid = dir === undefined ? undefined : (runningPostmasterPid(dir) ?? undefined);
  return { name: node.name, role: node.role, port: node.port, running: node.isRunning(), pid, dataDir: dir };
}

const done = {
  stop: "stopped (fast shutdown)",
  start: "started",
  kill: "killed (immediate shutdown, like a crash)",
} as const;

async function perform(cluster: DevCluster, action: ControlAction, name: string | undefined): Promise<string> {
  if (action === "status") return "ok";
  const node = cluster.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new Error(`no node named ${JSON.stringify(name)}: ${cluster.nodes.map((n) => n.name).join(", ")}`);
  await node[action]();
  return `${node.name}: ${done[action]}`;
}

/** Serves control requests for `cluster` until the returned function is called. */
export async function serveClusterControl(
  cluster: DevCluster,
  log: (line: string) => void,
): Promise<{ socketPath: string; close: () => void }> {
  const socketPath = controlSocketPath(cluster.primary.port);
  rmSync(socketPath, { force: true });
  const server = net.createServer((socket) => {
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("error", () => {});
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      if (!buffered.includes("\n")) return;
      const { action, node } = JSON.parse(buffered) as { action: ControlAction; node?: string };
      perform(cluster, action, node).then(
        (message) => {
          if (action !== "status") log(message);
          reply(socket, { ok: true, message, nodes: cluster.nodes.map(describeNode) });
        },
        (error: unknown) =>
          reply(socket, { ok: false, message: (error as Error).message, nodes: cluster.nodes.map(describeNode) }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  server.unref();
  return {
    socketPath,
    close: () => {
      server.close();
      rmSync(socketPath, { force: true });
    },
  };
}

function reply(socket: net.Socket, body: ControlReply): void {
  socket.end(`${JSON.stringify(body)}\n`);
}

/** Asks the `cluster up` whose primary listens on `primaryPort`. */
export function requestClusterControl(
  primaryPort: number,
  action: ControlAction,
  node: string | undefined,
): Promise<ControlReply> {
  const socketPath = controlSocketPath(primaryPort);
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify({ action, node })}\n`));
    socket.on("data", (chunk: string) => {
      buffered += chunk;
    });
    socket.on("end", () => {
      try {
        resolve(JSON.parse(buffered) as ControlReply);
      } catch {
        reject(new Error(`no answer from the cluster on ${socketPath}`));
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      const missing = error.code === "ENOENT" || error.code === "ECONNREFUSED";
      reject(
        missing
          ? new Error(
              `no \`prisma-split cluster up\` is running with its primary on port ${primaryPort} ` +
                `(${socketPath}); pass --port to pick another cluster.`,
            )
          : error,
      );
    });
  });
}

/** One line per node: name, port, running or not, PID and data directory. */
export function processLines(nodes: readonly NodeProcess[]): string[] {
  const width = Math.max(...nodes.map((node) => node.name.length));
  return nodes.map((node) =>
    [
      `  ${node.name.padEnd(width)}`,
      `port ${node.port}`,
      node.running ? `pid ${node.pid ?? "?"}` : "stopped",
      node.dataDir ?? "(container)",
    ].join("  "),
  );
}

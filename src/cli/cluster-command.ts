import { applyMigrations, findMigrationsDir } from "../dev-cluster/migrate.js";
import { startCluster } from "../dev-cluster/start-cluster.js";
import type { DevCluster } from "../dev-cluster/types.js";
import { type ClusterUpArgs, clusterUsage, parseClusterArgs } from "./cluster-args.js";
import {
  type ControlAction,
  describeNode,
  processLines,
  requestClusterControl,
  runningClusterPort,
  serveClusterControl,
} from "./cluster-control.js";
import { type ClusterReport, envLines, readyLine, statusLines } from "./cluster-report.js";

const stopSignals = ["SIGINT", "SIGTERM"] as const;
type StopSignal = (typeof stopSignals)[number];

/**
 * Resolves on the first SIGINT/SIGTERM. Our listeners stay until dispose(), so a second Ctrl-C
 * while stopping does not kill the process with servers still running.
 */
function onStopSignal(log: (line: string) => void): { received: Promise<StopSignal>; dispose: () => void } {
  let count = 0;
  let resolve: (signal: StopSignal) => void = () => {};
  const received = new Promise<StopSignal>((r) => (resolve = r));
  const listener = (signal: StopSignal) => {
    count += 1;
    if (count === 1) resolve(signal);
    else log(`${signal} again: still stopping the cluster...`);
  };
  for (const signal of stopSignals) process.on(signal, listener);
  const dispose = () => {
    for (const signal of stopSignals) process.off(signal, listener);
  };
  return { received, dispose };
}

async function report(cluster: DevCluster, migrations: ClusterReport["migrations"]): Promise<ClusterReport> {
  const [version] = await cluster.primary.query<{ server_version: string }>("SHOW server_version");
  const streams = await cluster.primary.query<{ application_name: string; state: string }>(
    "SELECT application_name, state FROM pg_stat_replication",
  );
  const stateOf = (name: string) => streams.find((s) => s.application_name === name)?.state ?? "not connected yet";
  return {
    backend: cluster.backend,
    serverVersion: version?.server_version ?? "unknown",
    nodes: cluster.nodes.map((node) => ({
      name: node.name,
      url: node.url,
      ...(node.role === "replica" ? { replication: stateOf(node.name) } : {}),
    })),
    migrations,
    cwd: process.cwd(),
  };
}

async function migrate(cluster: DevCluster, args: ClusterUpArgs): Promise<ClusterReport["migrations"]> {
  const dir = args.migrate ? (args.migrationsDir ?? findMigrationsDir()) : undefined;
  if (dir === undefined) return undefined;
  const applied = await applyMigrations(cluster.primaryUrl, dir);
  await cluster.waitForReplicas(30_000);
  return { dir, applied };
}

async function up(args: ClusterUpArgs): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const stop = onStopSignal(log);
  const starting = startCluster({ replicas: args.replicas, port: args.port, backend: args.backend, migrate: false });
  let cluster: DevCluster | undefined;
  let control: { close: () => void } | undefined;
  try {
    const first = await Promise.race([starting, stop.received]);
    if (typeof first === "string") {
      log(`${first}: stopping the cluster before it finished starting...`);
      await (await starting.catch(() => undefined))?.stop();
      return 0;
    }
    cluster = first;
    const migrations = await migrate(cluster, args);
    for (const line of statusLines(await report(cluster, migrations))) log(line);
    for (const line of processLines(cluster.nodes.map(describeNode))) log(line);
    control = await serveClusterControl(cluster, log);
    process.stdout.write(`${envLines(cluster.primaryUrl, cluster.replicaUrls).join("\n")}\n`);
    log(readyLine);

    // Pending promises and signal listeners do not keep Node running; the servers are not our child processes.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const signal = await stop.received.finally(() => clearInterval(keepAlive));
    log(`${signal}: stopping the cluster...`);
    await cluster.stop();
    log("Stopped; its data is deleted.");
    return 0;
  } catch (error) {
    log(`prisma-split cluster up failed: ${(error as Error).message}`);
    await cluster?.stop().catch(() => {});
    await starting.then((c) => c.stop()).catch(() => {});
    return 1;
  } finally {
    control?.close();
    stop.dispose();
  }
}

async function controlNode(action: ControlAction, node: string | undefined, port: number | undefined): Promise<number> {
  try {
    const answer = await requestClusterControl(port ?? (await runningClusterPort()), action, node);
    (answer.ok ? process.stdout : process.stderr).write(`${answer.message}\n`);
    process.stdout.write(`${processLines(answer.nodes).join("\n")}\n`);
    return answer.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`prisma-split cluster ${action}: ${(error as Error).message}\n`);
    return 1;
  }
}

/**
 * `prisma-split cluster ...`: `argv` is the command line without the word `cluster`. Resolves with
 * the exit code: 0 after a clean stop (or --help), 1 when the cluster or the command failed, 2 on
 * a usage error.
 *
 * @example
 * // npx prisma-split cluster up --replicas 2  (src/cli/main.ts hands over the command line without "cluster")
 * process.exitCode = await runClusterCommand(["up", "--replicas", "2"]);
 */
export async function runClusterCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseClusterArgs(argv);
  if (parsed.kind === "help") {
    process.stdout.write(clusterUsage);
    return 0;
  }
  if (parsed.kind === "usage-error") {
    process.stderr.write(`prisma-split cluster: ${parsed.message}\n\n${clusterUsage}`);
    return 2;
  }
  if (parsed.kind === "control") return controlNode(parsed.action, parsed.node, parsed.port);
  return up(parsed.args);
}

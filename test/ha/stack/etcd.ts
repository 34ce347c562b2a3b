import path from "node:path";
import { logTail, runTool, startDaemon, waitFor } from "./daemon.ts";
import type { HaPorts } from "./ports.ts";
import type { HaTools } from "./tools.ts";

/** Teardown stage: after HAProxy and every Patroni (a Patroni stopping still talks to it). */
export const ETCD_STAGE = 90;

/** A one-node etcd for Patroni's leader key, data under `baseDir/etcd`; resolves once it answers healthy. */
export async function startEtcd(baseDir: string, tools: HaTools, ports: HaPorts): Promise<{ endpoint: string }> {
  const dataDir = path.join(baseDir, "etcd");
  const logFile = path.join(baseDir, "etcd.log");
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  startDaemon(baseDir, {
    name: "etcd",
    stage: ETCD_STAGE,
    file: tools.etcd,
    args: [
      "--name=ha0",
      "--data-dir",
      dataDir,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=ha0=${peer}`,
      "--initial-cluster-state=new",
      `--initial-cluster-token=${path.basename(baseDir)}`,
    ],
    identity: dataDir,
    logFile,
    asServerUser: false,
  });
  await waitFor(
    "etcd to answer healthy",
    async () => {
      await runTool(tools.etcdctl, [`--endpoints=${client}`, "endpoint", "health"], baseDir, 5_000);
      return true;
    },
    { timeoutMs: 30_000, explain: () => logTail(logFile) },
  );
  return { endpoint: `127.0.0.1:${ports.etcdClient}` };
}

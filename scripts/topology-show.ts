// Issue 11's "Must show", measured on a real embedded primary + 2 streaming replicas:
// $health() before and after a switchover seen through one multi-host URL, the topology:change
// events, time from the promotion to the first acknowledged write; then a replica promoted
// beside a working primary (split brain): where 20 reads went and which rows they saw, with
// replicas.strict (the default) and without.
// Run: npm run generate && npx tsx scripts/topology-show.ts   (about 15 s)

import { startCluster } from "../src/dev-cluster/index.ts";
import { type CreateDbOptions, createDb, type HealthReport, type TopologyChangeEvent } from "../src/index.ts";
import { PrismaClient } from "../test/generated/prisma/client.ts";

const migrations = new URL("../prisma/migrations", import.meta.url).pathname;
const cluster = await startCluster({ replicas: 2, migrationsDir: migrations });
type Options = Omit<CreateDbOptions<PrismaClient>, "PrismaClient">;
const open = (options: Options) => createDb({ PrismaClient, shutdown: false, ...options });
let unique = 0;
const email = () => `show-${process.pid}-${++unique}@example.test`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const portOf = (url: string) => new URL(url).port;

function showHealth(title: string, health: HealthReport): void {
  console.log(`${title}: status ${health.status}, ready ${health.ready}`);
  for (const node of [health.primary, ...health.replicas]) {
    const rotation =
      node.role === "primary" ? "writes" : node.inRotation ? "reads" : `out (${node.outOfRotation.join(",")})`;
    console.log(
      `  ${node.name.padEnd(10)} :${portOf(node.url)}  configured ${node.role.padEnd(7)}  actual ${String(node.actualRole).padEnd(9)} ${rotation}`,
    );
  }
}

try {
  const hosts = cluster.nodes.map((node) => `127.0.0.1:${node.port}`);
  // The writer listed last: prisma-split finds it.
  const url = `postgresql://postgres@${[...hosts.slice(1), hosts[0]].join(",")}/app?target_session_attrs=read-write`;
  console.log(`one URL: ${url}`);
  console.log(
    `servers: primary :${cluster.primary.port}, ${cluster.replicas.map((r) => `${r.name} :${r.port}`).join(", ")}\n`,
  );
  const db = open({ primaryUrl: url, replicaUrls: undefined, replicas: { pollIntervalMs: 250 } });
  const changes: Array<TopologyChangeEvent & { at: number }> = [];
  db.$events.on("topology:change", (event) => changes.push({ ...event, at: performance.now() }));
  await db.user.create({ data: { email: email() } });
  await sleep(600); // two monitor polls: the writer's own replica node leaves read rotation
  showHealth("$health() before the switchover", await db.$health());

  // A small write load while the cluster switches over to replica1's server.
  let stop = false;
  const acks: number[] = [];
  const writer = (async () => {
    while (!stop) {
      try {
        await db.user.create({ data: { email: email() } });
        acks.push(performance.now());
      } catch {}
      await sleep(10);
    }
  })();
  const oldPrimary = cluster.primary;
  await cluster.switchover(cluster.replicas[0]);
  const promotedAt = cluster.lastPromotionAt!;
  const deadline = performance.now() + 15_000;
  let oldServesReads = false;
  while (performance.now() < deadline && !oldServesReads) {
    const { port } = await db.nodeInfo.findFirstOrThrow();
    oldServesReads = port === oldPrimary.port;
    await sleep(20);
  }
  stop = true;
  await writer;
  const firstAck = acks.find((at) => at > promotedAt);
  console.log(
    `\nswitchover: first acknowledged write ${firstAck === undefined ? "never" : `${Math.round(firstAck - promotedAt)} ms`} after the promotion; ` +
      `old primary (:${oldPrimary.port}) serving reads as a standby: ${oldServesReads}`,
  );
  console.log("topology:change events:");
  for (const change of changes) {
    console.log(
      `  ${change.action} (trigger ${change.trigger}, ${change.durationMs} ms) :${portOf(change.previous)} → :${portOf(change.current)}` +
        `  [${change.roles.map((r) => `:${portOf(r.url)} ${r.role}`).join(", ")}]` +
        (change.at > promotedAt ? `  ${Math.round(change.at - promotedAt)} ms after the promotion` : "  at start"),
    );
  }
  showHealth("\n$health() after the switchover", await db.$health());
  await db.$disconnect();

  // Split brain: a replica promoted beside the primary, which keeps taking writes.
  await cluster.waitForReplicas();
  const promoted = cluster.replicas.find((r) => r.isRunning())!;
  console.log(
    `\npromoted-replica case: SELECT pg_promote() on ${promoted.name} (:${promoted.port}); the primary keeps writing`,
  );
  const clients = {
    "replicas.strict (default)": open({
      primaryUrl: cluster.primaryUrl,
      replicaUrls: [promoted.url],
      replicas: { pollIntervalMs: 250 },
    }),
    "replicas.strict: false": open({
      primaryUrl: cluster.primaryUrl,
      replicaUrls: [promoted.url],
      replicas: { pollIntervalMs: 250, strict: false },
    }),
  };
  for (const client of Object.values(clients)) client.$events.on("role:mismatch", () => {});
  await promoted.query("SELECT pg_promote(true, 30)");
  await sleep(600); // the monitors' next polls
  const emails = Array.from({ length: 5 }, email);
  for (const address of emails) await clients["replicas.strict (default)"].user.create({ data: { email: address } });
  for (const [name, client] of Object.entries(clients)) {
    const ports: number[] = [];
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      ports.push((await client.nodeInfo.findFirstOrThrow()).port);
      seen.push(await client.user.count({ where: { email: { in: emails } } }));
    }
    const onPrimary = ports.filter((p) => p === cluster.primary.port).length;
    console.log(
      `  ${name.padEnd(26)} 20 reads: ${onPrimary} on the primary, ${ports.length - onPrimary} on the promoted replica; ` +
        `rows seen (of ${emails.length} written after the promotion): ${[...new Set(seen)].join("/")}` +
        `${seen.filter((n) => n !== emails.length).length === 0 ? " every time" : ` (${seen.filter((n) => n !== emails.length).length} reads missed them)`}`,
    );
    await client.$disconnect();
  }
} finally {
  await cluster.stop();
}

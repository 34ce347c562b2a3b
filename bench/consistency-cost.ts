/**
 * What read-your-writes costs, counted, not assumed: every statement any `pg` client of the
 * adapter's copy sends (Prisma's pools, the "lsn" position query, the replica monitor) is
 * counted by wrapping `pg.Client.prototype.query`, per server and per kind.
 *
 *   npx tsx bench/consistency-cost.ts            (or: npm run bench:consistency)
 *
 * Starts its own primary + 1 replica (embedded PostgreSQL) and stops it at the end.
 */

import { createDb, type ReadYourWrites } from "../src/index.ts";
import { loadDriver } from "../src/pool/driver.ts";
import { splitStateOf } from "../src/split-state.ts";
import { startCluster } from "../test/cluster/index.ts";
import { PrismaClient } from "../test/generated/prisma/client.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 300);
const MONITOR_SECONDS = Number(process.env.MONITOR_SECONDS ?? 10);

type Kind = "app" | "lsn" | "monitor";
const counts = new Map<string, number>(); // `${port}:${kind}` → statements

function countStatements(): void {
  const { pg } = loadDriver();
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: InstanceType<typeof pg.Client>, ...args: unknown[]) {
    const params = (this as unknown as { connectionParameters: { port: number; fallback_application_name?: string } })
      .connectionParameters;
    const first = args[0];
    const text = typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? "");
    const kind: Kind = params.fallback_application_name?.startsWith("prisma-split/monitor/")
      ? "monitor"
      : text.includes("pg_current_wal_insert_lsn")
        ? "lsn"
        : "app";
    const key = `${params.port}:${kind}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

function snapshot(): Map<string, number> {
  return new Map(counts);
}

function since(before: Map<string, number>, port: number, kind: Kind): number {
  const key = `${port}:${kind}`;
  return (counts.get(key) ?? 0) - (before.get(key) ?? 0);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const perOp = (total: number) => (total / ROUNDS).toFixed(2);

async function main(): Promise<void> {
  countStatements();
  const cluster = await startCluster({ replicas: 1 });
  const primary = cluster.primary.port;
  const replica = cluster.replicas[0]!.port;
  let unique = 0;
  const email = () => `bench-${process.pid}-${++unique}@example.test`;
  const rows: string[][] = [];

  try {
    const modes: ReadYourWrites[] = ["off", "session", "lsn"];
    const dbs = modes.map((mode) =>
      createDb({
        PrismaClient,
        primaryUrl: cluster.primaryUrl,
        replicaUrls: cluster.replicaUrls,
        // The monitor polls only when asked to here, so its statements stay out of the per-op counts.
        replicas: { pollIntervalMs: 3_600_000 },
        consistency: { readYourWrites: mode, stickyMs: 2000 },
      }),
    );
    const reasons = dbs.map(() => new Map<string, number>());
    for (const [index, db] of dbs.entries()) {
      await db.$connect();
      await db.user.findFirst(); // warm both pools and Prisma's engine
      await db.$primary().user.findFirst();
      db.$events.on("query", (event) => {
        const seen = reasons[index]!;
        if (event.operation === "findUnique") seen.set(event.reason, (seen.get(event.reason) ?? 0) + 1);
      });
    }
    const writeThenRead = (db: (typeof dbs)[number]) =>
      db.$withSession(async () => {
        const address = email();
        const started = performance.now();
        await db.user.create({ data: { email: address } });
        const writeMs = performance.now() - started;
        await db.user.findUnique({ where: { email: address } });
        return writeMs;
      });
    // Warm-up, then the modes interleaved round by round, so that they share the machine's state.
    for (let i = 0; i < 20; i++) for (const db of dbs) await writeThenRead(db);
    for (const seen of reasons) seen.clear();

    // 1) a write, then at once a read of it, in one context (a request).
    const writeMs = dbs.map(() => [] as number[]);
    const immediate = dbs.map(() => ({ primaryApp: 0, lsn: 0, replicaApp: 0 }));
    for (let i = 0; i < ROUNDS; i++) {
      for (const [index, db] of dbs.entries()) {
        const before = snapshot();
        writeMs[index]!.push(await writeThenRead(db));
        const sum = immediate[index]!;
        sum.primaryApp += since(before, primary, "app");
        sum.lsn += since(before, primary, "lsn");
        sum.replicaApp += since(before, replica, "app");
      }
    }
    const immediateReasons = reasons.map((seen) => JSON.stringify(Object.fromEntries(seen)));
    for (const seen of reasons) seen.clear();

    // 2) a write, then a read after the monitor has seen the replica catch up.
    const caughtUp = dbs.map(() => ({ primary: 0, replica: 0, lsn: 0 }));
    for (let i = 0; i < ROUNDS; i++) {
      for (const [index, db] of dbs.entries()) {
        const monitor = splitStateOf(db)!.monitor!;
        await db.$withSession(async () => {
          const address = email();
          await db.user.create({ data: { email: address } });
          await cluster.waitForReplicas();
          await monitor.pollOnce();
          const before = snapshot();
          await db.user.findUnique({ where: { email: address } });
          const sum = caughtUp[index]!;
          sum.primary += since(before, primary, "app");
          sum.replica += since(before, replica, "app");
          sum.lsn += since(before, primary, "lsn");
        });
      }
    }

    // 3) reads in a context that wrote nothing.
    const readOnly = dbs.map(() => 0);
    for (let i = 0; i < ROUNDS; i++) {
      for (const [index, db] of dbs.entries()) {
        const before = snapshot();
        await db.$withSession(() => db.user.findFirst());
        readOnly[index]! += since(before, primary, "lsn") + since(before, primary, "app");
      }
    }

    for (const [index, mode] of modes.entries()) {
      const down = caughtUp[index]!;
      rows.push([
        mode,
        perOp(immediate[index]!.primaryApp),
        perOp(immediate[index]!.replicaApp),
        perOp(immediate[index]!.lsn),
        median(writeMs[index]!).toFixed(3),
        immediateReasons[index]!,
        `${perOp(down.primary)} / ${perOp(down.replica)} / ${perOp(down.lsn)}`,
        JSON.stringify(Object.fromEntries(reasons[index]!)),
        perOp(readOnly[index]!),
      ]);
    }
    await Promise.all(dbs.map((db) => db.$disconnect()));

    console.log(`\nread-your-writes cost, ${ROUNDS} rounds per row, statements counted at the pg client`);
    console.log(
      "(1) write, then read at once (per round) | (2) write, replica caught up and polled, then read (per read) | (3) read-only context (per read)\n",
    );
    const header = [
      "mode",
      "(1) primary app stmts",
      "(1) replica app stmts",
      "(1) LSN queries/write",
      "(1) write p50 ms",
      "(1) read routed",
      "(2) read stmts primary/replica/LSN",
      "(2) read routed",
      "(3) primary stmts/read",
    ];
    printTable(header, rows);

    // 4) the monitor's own load, at its default interval, after its first round.
    const db = createDb({ PrismaClient, primaryUrl: cluster.primaryUrl, replicaUrls: cluster.replicaUrls });
    const monitor = splitStateOf(db)!.monitor!;
    while ((monitor.queriesSent()["replica-0"] ?? 0) < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const before = snapshot();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, MONITOR_SECONDS * 1000));
    const seconds = (performance.now() - started) / 1000;
    const monitorConnections = async (node: typeof cluster.primary) =>
      String(
        (
          await node.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'prisma-split/monitor/%'",
          )
        )[0]?.n,
      );
    const connections = [await monitorConnections(cluster.primary), await monitorConnections(cluster.replicas[0]!)];
    await db.$disconnect();
    console.log(`\nreplica monitor at the default pollIntervalMs (1000), over ${seconds.toFixed(1)} s:`);
    printTable(
      ["node", "probe queries", "queries/s", "monitor connections"],
      [
        [
          "primary",
          String(since(before, primary, "monitor")),
          (since(before, primary, "monitor") / seconds).toFixed(2),
          connections[0]!,
        ],
        [
          "replica-0",
          String(since(before, replica, "monitor")),
          (since(before, replica, "monitor") / seconds).toFixed(2),
          connections[1]!,
        ],
      ],
    );
  } finally {
    await cluster.stop();
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

await main();

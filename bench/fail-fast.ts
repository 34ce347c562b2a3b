/**
 * Fail-fast benchmark (not a test): how long a write takes to fail while the primary is down,
 * prisma-split with its breaker open next to a plain PrismaClient on the same URL.
 *
 *   npx tsx bench/fail-fast.ts        (or: npm run bench:fail-fast)
 *
 * Two ways for a primary to be down: its process killed (connections are refused at once) and
 * black-holed (a TCP proxy that stops forwarding without closing, as a dead host or a dropping
 * firewall does). Starts and stops its own primary + replica.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { createDb, isDatabaseUnavailable } from "../src/index.ts";
import { startCluster } from "../test/cluster/index.ts";
import { PrismaClient } from "../test/generated/prisma/client.ts";
import { TcpProxy } from "../test/integration/chaos/tcp-proxy.ts";

const SAMPLES = 200;
const PLAIN_SAMPLES = 20;
/** How long the bench waits for a plain PrismaClient call that does not fail on its own. */
const PLAIN_CAP_MS = 15_000;

type Outcome = { ms: number; error: unknown; capped: boolean };

async function timeOne(run: () => PromiseLike<unknown>, capMs = Number.POSITIVE_INFINITY): Promise<Outcome> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<"capped">((resolve) => {
    if (Number.isFinite(capMs)) timer = setTimeout(() => resolve("capped"), capMs);
  });
  try {
    const result = await Promise.race([Promise.resolve(run()).then(() => "ok" as const), cap]);
    return {
      ms: performance.now() - started,
      error: result === "ok" ? undefined : "capped",
      capped: result === "capped",
    };
  } catch (error) {
    return { ms: performance.now() - started, error, capped: false };
  } finally {
    clearTimeout(timer);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(0));

async function main(): Promise<void> {
  const cluster = await startCluster({ replicas: 1 });
  const rows: string[][] = [];
  try {
    const [author] = await cluster.primary.query<{ id: number }>(
      "INSERT INTO users (email) VALUES ('bench@example.test') RETURNING id",
    );
    let n = 0;
    type Writer = { post: { create(args: { data: { title: string; authorId: number } }): PromiseLike<unknown> } };
    const write = (client: unknown) => () =>
      (client as Writer).post.create({ data: { title: `bench-${n++}`, authorId: author!.id } });

    for (const situation of ["killed", "black-holed"] as const) {
      const proxy = await new TcpProxy(cluster.primary.port).listen();
      // Killed: straight to the server, so connections are refused as they would be. Black-holed: via the proxy.
      const primaryUrl =
        situation === "killed" ? cluster.primaryUrl : `postgresql://postgres@127.0.0.1:${proxy.port}/app`;
      // Defaults everywhere, except a reset time long enough for the breaker to stay open while measured.
      const db = createDb({
        PrismaClient,
        primaryUrl,
        replicaUrls: cluster.replicaUrls,
        breaker: { resetTimeout: 120_000 },
      });
      let opened = false;
      let openedAt = 0;
      db.$events.on("breaker:open", (event) => {
        if (event.role !== "primary") return;
        opened = true;
        openedAt = performance.now();
      });
      const plain = new PrismaClient({ adapter: new PrismaPg({ connectionString: primaryUrl }) });
      try {
        for (let i = 0; i < 20; i++) {
          await write(db)();
          await write(plain)();
        }
        if (situation === "killed") await cluster.primary.kill();
        else proxy.blackHole();

        // Until the breaker opens: concurrent writes, so the streak of failures builds at once.
        const opening = performance.now();
        let firstFailures: Outcome[] = [];
        while (!opened) {
          firstFailures = await Promise.all(Array.from({ length: 12 }, () => timeOne(write(db))));
          if (performance.now() - opening > 60_000) throw new Error("the breaker did not open within 60 s");
        }
        const toOpen = openedAt - opening;

        const open: Outcome[] = [];
        for (let i = 0; i < SAMPLES; i++) open.push(await timeOne(write(db)));
        const breakerOpen = open.filter((o) => isDatabaseUnavailable(o.error) && o.error.reason === "breaker-open");

        const plainOutcomes: Outcome[] =
          situation === "killed"
            ? await sequential(PLAIN_SAMPLES, () => timeOne(write(plain), PLAIN_CAP_MS))
            : await Promise.all(Array.from({ length: 3 }, () => timeOne(write(plain), PLAIN_CAP_MS)));
        const capped = plainOutcomes.filter((o) => o.capped).length;
        const plainMs = plainOutcomes.map((o) => o.ms);
        rows.push([
          `primary ${situation}`,
          `${fmt(median(breakerOpen.map((o) => o.ms)))} / ${fmt(p99(breakerOpen.map((o) => o.ms)))} (${breakerOpen.length}/${open.length} breaker-open 503s)`,
          capped > 0
            ? `did not fail within ${PLAIN_CAP_MS} ms (${capped}/${plainOutcomes.length} calls)`
            : `${fmt(median(plainMs))} / ${fmt(p99(plainMs))} (${plainOutcomes.length} calls, ${describe(plainOutcomes[0]?.error)})`,
          `${fmt(toOpen)} ms; the 12 calls that opened it failed after median ${fmt(median(firstFailures.map((o) => o.ms)))} ms`,
        ]);
      } finally {
        proxy.restore();
        await proxy.close();
        await db.$disconnect();
        await plain.$disconnect().catch(() => {});
        await cluster.primary.start();
      }
    }
  } finally {
    await cluster.stop();
  }
  const header = [
    "situation",
    "prisma-split, breaker open: median / p99 ms",
    "plain PrismaClient: median / p99 ms",
    "until the breaker opened",
  ];
  console.log(`\nfail-fast: time for a write to fail while the primary is down (${SAMPLES} prisma-split samples)\n`);
  for (const row of [header, ...rows]) console.log(`| ${row.join(" | ")} |`);
}

async function sequential<T>(count: number, run: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(await run());
  return out;
}

function describe(error: unknown): string {
  if (error === undefined) return "no error";
  const message = error instanceof Error ? error.message : String(error);
  return (
    message
      .split("\n")
      .filter((line) => line.trim() !== "")
      .at(-1) ?? ""
  ).slice(0, 60);
}

await main();

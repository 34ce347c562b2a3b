/**
 * `npm run bench:layers -- [postgres|in-memory] [rounds] [ops] [--baseline <ref>] [--defaults-only]`: what each of prisma-split's
 * layers costs a point read, one layer at a time. Contenders: plain PrismaClient, prisma-split
 * with every default, with every layer off ("routing only"), and routing plus one layer. Rounds
 * are short (a few hundred reads) and many, in an order rotated by one each round, so that the machine's
 * drift (other VMs, frequency) falls on every contender alike; each contender's time and CPU are
 * divided by plain PrismaClient's in the same round. Prints the median ratio and its IQR, and the
 * median µs per read. `--baseline <ref>` adds that commit's build (defaults, routing only) and prints
 * this checkout ÷ it per round; `--defaults-only` leaves out the one-layer rows (more rounds in
 * the same time).
 */

import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import { startCluster } from "../test/cluster/index.ts";
import { PrismaClient } from "../test/generated/prisma/client.ts";
import { type BaselineBuild, buildBaseline, pairedRatio } from "./lib/baseline.ts";
import { EVERY_LAYER_OFF, InMemoryPrismaClient, POOL_MAX } from "./lib/contenders.ts";
import { formatFixed } from "./lib/format.ts";
import { interleaveRounds } from "./lib/interleave.ts";
import { type RoundSample, runOps } from "./lib/measure.ts";
import { loadPrismaSplit } from "./lib/prisma-split.ts";
import { seed, seededId } from "./lib/seed.ts";
import { median, quartiles } from "./lib/stats.ts";

const { values: flags, positionals } = parseArgs({
  options: { baseline: { type: "string" }, "defaults-only": { type: "boolean" } },
  allowPositionals: true,
});
const [driverArgument = "postgres", roundsArgument = "100", opsArgument = "300"] = positionals;
const inMemory = driverArgument === "in-memory";
const rounds = Number(roundsArgument);
const ops = Number(opsArgument);

/** Routing plus one layer: the option that turns it back on over EVERY_LAYER_OFF. */
const ONE_LAYER: Record<string, Record<string, unknown>> = {
  "+ breaker": { breaker: {} },
  "+ breaker, no statement bound": { breaker: { timeout: false } },
  "+ metrics": { metrics: {} },
  "+ retry, bulkhead": { retry: {}, bulkhead: {} },
  "+ consistency": { consistency: {} },
  "+ replica monitor": { replicas: { pollIntervalMs: 1000 } },
  "+ shutdown, pool check": { shutdown: {}, poolCheck: {} },
};

interface Reader {
  user: { findUnique(args: { where: { id: number } }): PromiseLike<unknown> };
  $disconnect(): Promise<void>;
}

const baseline: BaselineBuild | undefined =
  flags.baseline === undefined ? undefined : await buildBaseline(flags.baseline, (line) => console.error(line));
const cluster = await startCluster({ replicas: 1 }).catch((error: unknown) => {
  baseline?.remove();
  throw error;
});
const contenders: Array<[string, Reader]> = [];
try {
  await seed(cluster);
  const { createDb } = await loadPrismaSplit();
  const replicaUrl = cluster.replicaUrls[0] as string;
  const ClientClass = inMemory ? InMemoryPrismaClient : PrismaClient;
  const split = (options: Record<string, unknown>, build = createDb) =>
    build({
      PrismaClient: ClientClass,
      primaryUrl: cluster.primaryUrl,
      replicaUrls: [replicaUrl],
      ...options,
    }) as unknown as Reader;
  contenders.push(
    ["PrismaClient", new ClientClass({ adapter: new PrismaPg({ connectionString: replicaUrl, max: POOL_MAX }) })],
    ["prisma-split, defaults", split({})],
    ["prisma-split, routing only", split(EVERY_LAYER_OFF)],
  );
  if (baseline !== undefined) {
    contenders.push(
      [`prisma-split @${baseline.short}, defaults`, split({}, baseline.createDb)],
      [`prisma-split @${baseline.short}, routing only`, split(EVERY_LAYER_OFF, baseline.createDb)],
    );
  }
  if (flags["defaults-only"] !== true) {
    contenders.push(
      ...Object.entries(ONE_LAYER).map(
        ([name, layer]) => [`routing ${name}`, split({ ...EVERY_LAYER_OFF, ...layer })] as [string, Reader],
      ),
    );
  }

  const read = (client: Reader) => (index: number) => client.user.findUnique({ where: { id: seededId(index) } });
  for (let warm = 0; warm < 5; warm++) for (const [, client] of contenders) await runOps(read(client), ops, 1);
  const measured = await interleaveRounds(contenders, rounds, ([, client]) => runOps(read(client), ops, 1));
  // Each contender's round over plain PrismaClient's round of the same index (measured beside it).
  const floor = measured[0] as RoundSample[];
  const samples = new Map(
    contenders.map(([name], index) => {
      const own = measured[index] as RoundSample[];
      return [
        name,
        {
          wall: own.map((sample, round) => sample.elapsedMs / (floor[round] as RoundSample).elapsedMs),
          cpu: own.map((sample, round) => sample.cpuMicros / (floor[round] as RoundSample).cpuMicros),
          us: own.map((sample) => (sample.elapsedMs * 1000) / sample.ops),
        },
      ];
    }),
  );
  const spread = (values: number[]) =>
    quartiles(values)
      .map((value) => formatFixed(value, 2))
      .join("–");
  console.log(
    `Point read (findUnique by id), ${inMemory ? "in-memory driver" : "real replica"}, ${rounds} rounds × ${ops} sequential reads, order rotated per round`,
  );
  console.log(
    `${"contender".padEnd(42)} ${"µs/read".padStart(8)}  ${"× time".padStart(7)} IQR        ${"× CPU".padStart(6)} IQR`,
  );
  for (const [name, sample] of samples) {
    console.log(
      `${name.padEnd(42)} ${formatFixed(median(sample.us), 1).padStart(8)}  ${formatFixed(median(sample.wall), 3).padStart(7)} ${spread(sample.wall).padEnd(10)} ${formatFixed(median(sample.cpu), 3).padStart(6)} ${spread(sample.cpu)}`,
    );
  }
  if (baseline !== undefined) {
    for (const variant of ["defaults", "routing only"]) {
      const current = samples.get(`prisma-split, ${variant}`);
      const older = samples.get(`prisma-split @${baseline.short}, ${variant}`);
      if (current === undefined || older === undefined) continue;
      console.log(
        `${variant}: this checkout ÷ @${baseline.short}, per round: time ${pairedRatio(current.us, older.us)}, CPU ${pairedRatio(current.cpu, older.cpu)}`,
      );
    }
  }
} finally {
  for (const [, client] of contenders) await client.$disconnect();
  await cluster.stop();
  baseline?.remove();
}

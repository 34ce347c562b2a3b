import { pairedRatio } from "../lib/baseline.ts";
import {
  type BenchClient,
  type Contender,
  type ContenderSpec,
  createSplitContender,
  LSN_AND_METRICS,
} from "../lib/contenders.ts";
import { formatFixed, formatInteger } from "../lib/format.ts";
import { interleaveRounds } from "../lib/interleave.ts";
import type { Column, Row, Scenario } from "../lib/scenario.ts";
import { median, quartiles } from "../lib/stats.ts";
import { StubPrismaClient } from "../lib/stub-client.ts";

const stubDirect: ContenderSpec = {
  id: "prisma",
  label: "stub client",
  setup: "a PrismaClient stand-in whose findUnique() resolves at once (bench/lib/stub-client.ts), called directly",
  async create() {
    const client = new StubPrismaClient({}) as unknown as BenchClient;
    return { id: this.id, label: this.label, client, close: async () => {} };
  },
};

const splitOverStub: ContenderSpec = {
  id: "split",
  label: "prisma-split on it",
  setup: "createDb({ PrismaClient: StubPrismaClient, primaryUrl, replicaUrls: [replicaUrl] }) from dist/, defaults",
  create(target) {
    return createSplitContender(this, target, { PrismaClientClass: StubPrismaClient });
  },
};

const splitLsnOverStub: ContenderSpec = {
  id: "split-lsn",
  label: "prisma-split +lsn+metrics on it",
  setup:
    'createDb({ PrismaClient: StubPrismaClient, primaryUrl, replicaUrls: [replicaUrl], metrics: {}, consistency: { readYourWrites: "lsn" } }) from dist/, each call inside its own db.$withSession()',
  create(target) {
    return createSplitContender(this, target, {
      PrismaClientClass: StubPrismaClient,
      options: LSN_AND_METRICS,
      inSession: true,
    });
  },
};

const COLUMNS: readonly Column[] = [
  { key: "case", header: "case", align: "left", group: true },
  { key: "contender", header: "contender", align: "left" },
  { key: "nsPerOp", header: "ns/op", format: formatInteger },
  { key: "addedNs", header: "+ns/op", format: formatInteger },
  { key: "addedIqr", header: "IQR", align: "left" },
];

/**
 * prisma-split's own cost per call, without Prisma: the same lazy call through createDb() and
 * straight on the stub. Nanoseconds, where a real point read takes hundreds of microseconds.
 */
const routingLayer: Scenario = {
  name: "routing-layer",
  title: "Routing layer alone: await db.user.findUnique() on a stub client, with and without prisma-split",
  contenders: [stubDirect, splitOverStub, splitLsnOverStub],
  baselineFor: splitOverStub,
  async run(context) {
    const target = {
      primaryUrl: context.cluster.primaryUrl,
      replicaUrl: context.cluster.replicaUrls[0] as string,
      workload: "reads" as const,
      driver: "in-memory" as const,
    };
    const contenders = await Promise.all(this.contenders.map((spec) => spec.create(target)));
    const ops = context.settings.quick ? 50_000 : 200_000;
    const rounds = Math.max(context.settings.rounds, 10);
    const rows: Row[] = [];
    const buildNotes: string[] = [];
    const raw: Record<string, number[][]> = {};
    try {
      for (const concurrency of [1, 16]) {
        const name = concurrency === 1 ? "sequential" : `${concurrency} callers`;
        for (const contender of contenders) await timeCalls(contender, ops, concurrency);
        const samples = await interleaveRounds(contenders, rounds, (contender) =>
          timeCalls(contender, ops, concurrency),
        );
        const baseline = samples[0] as number[];
        raw[name] = samples;
        contenders.forEach((contender, index) => {
          const own = samples[index] as number[];
          const added = own.map((ns, round) => ns - (baseline[round] as number));
          const [q1, q3] = quartiles(added);
          rows.push({
            case: name,
            contender: contender.label,
            nsPerOp: median(own),
            addedNs: median(added),
            addedIqr: index === 0 ? "" : `${formatFixed(q1, 0)}–${formatFixed(q3, 0)}`,
          });
        });
        for (const [index, older] of contenders.entries()) {
          const current = contenders.findIndex((contender) => contender.id === older.olderBuildOf);
          if (current === -1) continue;
          buildNotes.push(
            `${name}: ${contenders[current]?.label} ÷ ${older.label}, per round: × ns/op ${pairedRatio(samples[current] as number[], samples[index] as number[])}; below 1.00 this checkout is faster.`,
          );
        }
        const added = rows.slice(1 - contenders.length).map((row) => `+${formatInteger(row.addedNs)}`);
        context.log(`  ${name}: ${added.join(", ")} ns/op added`);
      }
    } finally {
      await Promise.all(contenders.map((contender) => contender.close()));
    }
    return {
      tables: [{ title: this.title, columns: COLUMNS, rows }],
      notes: [
        `${rounds} interleaved rounds × ${formatInteger(ops)} calls; +ns/op: prisma-split minus the stub in the same round, median (IQR over the rounds). No Prisma and no I/O: this is the whole price of routing a call (lazy routed call, route decision, in-flight count, promise hops).`,
        `${splitLsnOverStub.label}: each call inside its own db.$withSession() (metrics: {}, readYourWrites "lsn"); reads only, so no position query: the added cost is the consistency context itself, which the HTTP middleware opens once per request, not per query. Metrics are on in both prisma-split rows (prom-client is installed).`,
        ...buildNotes,
      ],
      raw,
    };
  },
};

/**
 * Nanoseconds per awaited call, `concurrency` callers; nothing recorded per call. Through the
 * contender's `around` when it has one (a second loop, so the others' loop has no extra call).
 */
async function timeCalls(contender: Contender, ops: number, concurrency: number): Promise<number> {
  const { client, around } = contender;
  let next = 0;
  const caller =
    around === undefined
      ? async () => {
          while (next < ops) await client.user.findUnique({ where: { id: next++ } });
        }
      : async () => {
          while (next < ops) {
            const id = next++;
            await around(() => client.user.findUnique({ where: { id } }));
          }
        };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, caller));
  return Number(process.hrtime.bigint() - started) / ops;
}

export default routingLayer;

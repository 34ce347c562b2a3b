import {
  CONTENDERS_WITH_LSN,
  EVERY_LAYER_OFF,
  lsnContenderNote,
  prismaSplit,
  prismaSplitBare,
} from "../lib/contenders.ts";
import type { Scenario } from "../lib/scenario.ts";
import { seededId } from "../lib/seed.ts";
import { THROUGHPUT_COLUMNS, type ThroughputCase } from "../lib/throughput.ts";
import { runThroughputCases } from "../lib/throughput-scenario.ts";

const findUnique: ThroughputCase["operation"] = (client, index) =>
  client.user.findUnique({ where: { id: seededId(index) } });

/** Scenario 1a: `findUnique` by primary key on the replica, the call a router must not slow down. */
const pointRead: Scenario = {
  name: "point-read",
  title: "Point read: user.findUnique({ where: { id } }) on the replica",
  contenders: [...CONTENDERS_WITH_LSN, prismaSplitBare],
  baselineFor: prismaSplit,
  async run(context) {
    const quick = context.settings.quick;
    const onPostgres = await runThroughputCases(context, this.contenders, "reads", "postgres", [
      { name: "sequential", ops: quick ? 500 : 1000, concurrency: 1, warmupOps: 500, operation: findUnique },
      { name: "16 callers", ops: quick ? 2000 : 4000, concurrency: 16, warmupOps: 1000, operation: findUnique },
    ]);
    const inMemory = await runThroughputCases(context, this.contenders, "reads", "in-memory", [
      {
        name: "sequential, in-memory driver",
        ops: quick ? 2000 : 4000,
        concurrency: 1,
        warmupOps: 2000,
        operation: findUnique,
      },
    ]);
    const outcomes = [...onPostgres, ...inMemory];
    return {
      tables: [{ title: this.title, columns: THROUGHPUT_COLUMNS, rows: outcomes.flatMap((o) => o.rows) }],
      notes: [
        "× time/op: wall time per operation relative to plain PrismaClient in the same round, median of the rounds (1.00 = the floor for a router). IQR: its spread over the rounds. CPU µs/op, × CPU: the same for this process's CPU time (user + system), i.e. the client side's work without the servers' and without time the scheduler gave to other processes.",
        "in-memory driver: every query answered at once with no rows and no I/O, so only the client side (Prisma's JavaScript plus the router's) is timed; the overhead a router adds shows here without the database's noise, at its largest relative size.",
        lsnContenderNote("reads"),
        `${prismaSplitBare.label}: ${JSON.stringify(EVERY_LAYER_OFF)}, i.e. the routing layer alone (issue 12's target: ≤ 1.01 ×).`,
        ...outcomes.flatMap((o) => o.notes),
      ],
      raw: {
        sequential: outcomes[0]?.raw,
        concurrent16: outcomes[1]?.raw,
        sequentialInMemory: outcomes[2]?.raw,
      },
    };
  },
};

export default pointRead;

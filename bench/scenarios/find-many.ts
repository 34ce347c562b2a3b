import { CONTENDERS_WITH_LSN, lsnContenderNote, prismaSplit } from "../lib/contenders.ts";
import type { Scenario } from "../lib/scenario.ts";
import { SEED_USERS } from "../lib/seed.ts";
import { THROUGHPUT_COLUMNS, type ThroughputCase } from "../lib/throughput.ts";
import { runThroughputCases } from "../lib/throughput-scenario.ts";

const PAGE = 10;

const findPage: ThroughputCase["operation"] = (client, index) =>
  client.user.findMany({ where: { id: { gt: index % (SEED_USERS - PAGE) } }, orderBy: { id: "asc" }, take: PAGE });

/** Scenario 1b: a small page of rows on the replica. */
const findMany: Scenario = {
  name: "find-many",
  title: `Small findMany: user.findMany({ where: { id: { gt } }, orderBy: { id: "asc" }, take: ${PAGE} }) on the replica`,
  contenders: CONTENDERS_WITH_LSN,
  baselineFor: prismaSplit,
  async run(context) {
    const quick = context.settings.quick;
    const outcomes = await runThroughputCases(context, this.contenders, "reads", "postgres", [
      { name: "sequential", ops: quick ? 500 : 1000, concurrency: 1, warmupOps: 500, operation: findPage },
      { name: "16 callers", ops: quick ? 1000 : 2000, concurrency: 16, warmupOps: 1000, operation: findPage },
    ]);
    return {
      tables: [{ title: this.title, columns: THROUGHPUT_COLUMNS, rows: outcomes.flatMap((o) => o.rows) }],
      notes: [lsnContenderNote("reads"), ...outcomes.flatMap((o) => o.notes)],
      raw: { sequential: outcomes[0]?.raw, concurrent16: outcomes[1]?.raw },
    };
  },
};

export default findMany;

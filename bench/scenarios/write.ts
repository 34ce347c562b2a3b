import { CONTENDERS_WITH_LSN, lsnContenderNote, prismaSplit } from "../lib/contenders.ts";
import type { Scenario } from "../lib/scenario.ts";
import { THROUGHPUT_COLUMNS, type ThroughputCase } from "../lib/throughput.ts";
import { runThroughputCases } from "../lib/throughput-scenario.ts";

let written = 0;
const runTag = Date.now().toString(36);

const createUser: ThroughputCase["operation"] = (client) => {
  written += 1;
  return client.user.create({ data: { email: `w${written}-${runTag}@bench.test`, name: "Bench" } });
};

/** Scenario 2: a single-row insert, which every contender must send to the primary. */
const write: Scenario = {
  name: "write",
  title: "Write: user.create({ data }) on the primary",
  contenders: CONTENDERS_WITH_LSN,
  baselineFor: prismaSplit,
  async run(context) {
    const quick = context.settings.quick;
    const outcomes = await runThroughputCases(context, this.contenders, "writes", "postgres", [
      { name: "sequential", ops: quick ? 300 : 600, concurrency: 1, warmupOps: 200, operation: createUser },
      { name: "16 callers", ops: quick ? 1000 : 2000, concurrency: 16, warmupOps: 500, operation: createUser },
    ]);
    return {
      tables: [{ title: this.title, columns: THROUGHPUT_COLUMNS, rows: outcomes.flatMap((o) => o.rows) }],
      notes: [
        "Each create commits on the primary of the test cluster (fsync off, synchronous_commit on: no disk flush, so this measures the client side and the round trip, not storage), and its WAL streams to the replica.",
        lsnContenderNote("writes"),
        ...outcomes.flatMap((o) => o.notes),
      ],
      raw: { sequential: outcomes[0]?.raw, concurrent16: outcomes[1]?.raw },
    };
  },
};

export default write;

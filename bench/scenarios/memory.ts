import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ALL_CONTENDERS, type ContenderSpec, type Driver } from "../lib/contenders.ts";
import { formatInteger, formatMegabytes } from "../lib/format.ts";
import { type HeapReading, PROBE_MARKER, type ProbeConfig } from "../lib/memory-probe.ts";
import type { Column, Row, Scenario, ScenarioContext } from "../lib/scenario.ts";

const probeFile = fileURLToPath(new URL("../lib/memory-probe-child.ts", import.meta.url));

const COLUMNS: readonly Column[] = [
  { key: "driver", header: "driver", align: "left", group: true },
  { key: "contender", header: "contender", align: "left", group: true },
  { key: "queries", header: "queries", format: formatInteger },
  { key: "heapUsed", header: "heapUsed MB", format: (v) => formatMegabytes(v) },
  { key: "growth", header: "vs warm-up MB", format: (v) => formatMegabytes(v, true) },
  { key: "rss", header: "rss MB", format: (v) => formatMegabytes(v) },
];

/**
 * Scenario 5: heap after many routed queries. Each contender runs in its own child process
 * (`--expose-gc`), heap read after two forced full GCs at each checkpoint. Real queries on the
 * cluster up to 10^5; 10^6 through the in-memory driver (the whole client-side pipeline, no I/O),
 * which fits the time budget where 3 × 10^6 real queries (~3 min here) would not.
 */
const memory: Scenario = {
  name: "memory",
  title: "Memory: heapUsed after N routed findUnique calls (16 callers), each contender alone in a --expose-gc child",
  contenders: ALL_CONTENDERS,
  async run(context) {
    const quick = context.settings.quick;
    const plan: Array<{ driver: Driver; checkpoints: number[] }> = [
      { driver: "postgres", checkpoints: quick ? [10_000, 30_000] : [10_000, 100_000] },
      { driver: "in-memory", checkpoints: quick ? [100_000] : [100_000, 500_000, 1_000_000] },
    ];
    const rows: Row[] = [];
    const raw: Record<string, Record<string, HeapReading[]>> = {};
    for (const { driver, checkpoints } of plan) {
      raw[driver] = {};
      context.log(
        `${driver}: every contender in its own process at once, ${checkpoints.map(formatInteger).join(", ")} queries`,
      );
      // Heap sizes do not depend on timing, so the probes share the CPU: one wait instead of three.
      const results = await Promise.all(this.contenders.map((spec) => runProbe(context, spec, driver, checkpoints)));
      for (const [index, spec] of this.contenders.entries()) {
        const readings = results[index] as HeapReading[];
        (raw[driver] as Record<string, HeapReading[]>)[spec.id] = readings;
        const base = readings[0] as HeapReading;
        for (const reading of readings) {
          rows.push({
            driver,
            contender: spec.label,
            queries: reading.queries,
            heapUsed: reading.heapUsed,
            growth: reading.heapUsed - base.heapUsed,
            rss: reading.rss,
          });
        }
      }
    }
    return {
      tables: [{ title: this.title, columns: COLUMNS, rows }],
      notes: [
        "Each contender in its own --expose-gc child process (the three run at the same time: heap does not depend on timing); heapUsed after two forced full GCs. queries 0 = right after a warm-up of 2,000 queries. Flat (growth within a fraction of a MB, not growing with N) is the target; rss includes the loaded code and native memory and is shown for context only.",
        "postgres: real queries on the replica. in-memory: the same call through the in-memory driver, so 10^6 queries fit in the time budget; it exercises everything that runs in the Node process (router, Prisma) but not pg's buffers.",
      ],
      raw,
    };
  },
};

function runProbe(
  context: ScenarioContext,
  spec: ContenderSpec,
  driver: Driver,
  checkpoints: number[],
): Promise<HeapReading[]> {
  const config: ProbeConfig = {
    contender: spec.id,
    driver,
    primaryUrl: context.cluster.primaryUrl,
    replicaUrl: context.cluster.replicaUrls[0] as string,
    checkpoints,
    concurrency: 16,
    warmupOps: 2000,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", probeFile, JSON.stringify(config)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const line = output.split("\n").find((text) => text.startsWith(PROBE_MARKER));
      if (code !== 0 || line === undefined) {
        reject(new Error(`memory probe for ${spec.label} (${driver}) failed: exit ${code ?? signal}\n${output}`));
        return;
      }
      resolve(JSON.parse(line.slice(PROBE_MARKER.length)) as HeapReading[]);
    });
  });
}

export default memory;

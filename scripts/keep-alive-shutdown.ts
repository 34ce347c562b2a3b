/**
 * `npx tsx scripts/keep-alive-shutdown.ts [--runs 10] [--server node|express|fastify]`: the
 * keep-alive shutdown measurement. For each server kind (node:http, Express, Fastify, each run
 * by `node --import tsx`, and Express under the `tsx` command), `--runs` times: 16 keep-alive clients in a loop, SIGTERM, and what each
 * request got, grouped by when its bytes were written (before the signal; after it but before
 * the app's log showed it; after that), and the time from SIGTERM to the process's exit. One
 * primary and one streaming replica on this machine serve every run. `--verbose` prints each
 * run's app output too (a run whose app did not log a finished shutdown always does).
 */
import { parseArgs } from "node:util";
import { startCluster } from "../src/dev-cluster/index.ts";
import {
  type KeepAliveShutdownResult,
  runKeepAliveShutdown,
  SHUTDOWN_SUBJECTS,
  type Tally,
  TSX_SUBJECT,
} from "../test/integration/keep-alive/keep-alive-shutdown.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "10" }, server: { type: "string" }, verbose: { type: "boolean" } },
});
const runs = Number(values.runs);
const subjects = [...SHUTDOWN_SUBJECTS, TSX_SUBJECT].filter(
  (subject) => values.server === undefined || subject.name.toLowerCase().startsWith(values.server.toLowerCase()),
);
/** The apps' default `shutdown.timeoutMs`; the bound is that + 1 s. */
const TIMEOUT_MS = 10_000;

const show = (tally: Tally) =>
  [
    ...Object.entries(tally.statuses).map(([status, count]) => `${count}×${status}`),
    ...Object.entries(tally.errors).map(([error, count]) => `${count}×${error}`),
  ].join(" ") || "-";

const cluster = await startCluster({ replicas: 1, backend: "embedded" });
try {
  console.log(
    "| server | run | exit | SIGTERM → exit ms | written before SIGTERM | after SIGTERM, before the app logged it | after the app logged it | refused before writing |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const subject of subjects) {
    const results: KeepAliveShutdownResult[] = [];
    for (let run = 1; run <= runs; run++) {
      const result = await runKeepAliveShutdown({
        subject,
        env: { DATABASE_URL: cluster.primaryUrl, DATABASE_REPLICA_URLS: cluster.replicaUrls.join(",") },
      });
      results.push(result);
      const exit = result.exit.signal ?? `code ${result.exit.code}`;
      console.log(
        `| ${subject.name} | ${run} | ${exit} | ${Math.round(result.msToExit)} | ${show(result.before)} | ${show(result.meanwhile)} | ${show(result.after)} | ${show(result.unsent)} |`,
      );
      if (values.verbose || !result.output.some((line) => line.includes("database: every in-flight query finished"))) {
        console.log(`  (${subject.name} run ${run}: the app's output)\n${result.output.join("\n")}`);
      }
    }
    const times = results.map((result) => result.msToExit).sort((a, b) => a - b);
    const within = times.filter((ms) => ms <= TIMEOUT_MS + 1_000).length;
    console.log(
      `| ${subject.name} | all | | min ${Math.round(times[0] ?? 0)}, median ${Math.round(times[Math.floor(times.length / 2)] ?? 0)}, max ${Math.round(times.at(-1) ?? 0)}; ${within}/${runs} within ${TIMEOUT_MS + 1_000} | | | | |`,
    );
  }
} finally {
  await cluster.stop();
}

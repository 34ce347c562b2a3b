import { setTimeout as sleep } from "node:timers/promises";
import { isOk, Load, type Sample } from "./load.ts";
import { type Demo, print } from "./phases.ts";
import { failures, seconds, servedByNode, table, tally } from "./report.ts";

const NODES = ["primary", "replica-0", "replica-1", "replica-2"] as const;

/**
 * (f) a planned switchover under load, as Patroni does one: the primary stops cleanly,
 * replica-0's server is promoted, the old primary comes back as its standby. The app was given
 * one multi-host DATABASE_URL (every server) and sees the old primary's server as replica-2, so
 * it follows the writer without a restart and reads from the old primary once it is a standby.
 */
export async function switchover(demo: Demo): Promise<void> {
  const { cluster } = demo;
  const oldPrimary = cluster.primary;
  const load = new Load(demo.load, "f");
  const title = "(f) switchover";
  const since = performance.now();
  demo.progress.start(() => `${title.padEnd(21)}${seconds(performance.now() - since).padStart(6)}`);
  let promotedAt = 0;
  let firstWrite: Sample | undefined;
  let oldPrimaryRead: Sample | undefined;
  try {
    await sleep(1_000);
    await cluster.switchover(cluster.replicas[0]);
    promotedAt = cluster.lastPromotionAt ?? performance.now();
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline && (firstWrite === undefined || oldPrimaryRead === undefined)) {
      const since = load.of("f").filter((s) => s.startedAt >= promotedAt);
      firstWrite ??= since.find((s) => s.kind === "write" && isOk(s));
      oldPrimaryRead ??= since.find((s) => s.kind === "read" && isOk(s) && (s.servedBy ?? "").includes("replica-2"));
      await sleep(50);
    }
    await sleep(1_000);
  } finally {
    await load.stop();
    demo.progress.done();
  }
  const samples = load.of("f");
  console.log(
    `${title}: ${oldPrimary.name}'s server stopped cleanly, ${cluster.primary.name}'s promoted, the old one back as its standby`,
  );
  print(table(["node", "reads", "writes ok"], servedByNode(samples, NODES)));
  const refused = samples.filter((s) => s.kind === "write" && s.status === 503);
  print(
    firstWrite === undefined
      ? "writes did not resume within 15 s"
      : `writes resumed ${seconds(firstWrite.startedAt + firstWrite.ms - promotedAt)} after the promotion, in the same ` +
          `app process; ${refused.length} × 503 during the move (${tally(refused.map((s) => s.reason ?? "?"))})`,
  );
  print(`failed reads: ${failures(samples, "read")}`);
  print(
    oldPrimaryRead === undefined
      ? "the old primary did not serve reads within 15 s"
      : `the old primary serves reads again as a standby (replica-2) ${seconds(oldPrimaryRead.startedAt - promotedAt)} after the promotion`,
  );
}

/**
 * `npm run bench:profile -- [prisma|extension|split] [callers] [seconds] [postgres|in-memory]`: one contender's point
 * reads on the embedded cluster for a while, nothing else, so a CPU profile
 * (`node --cpu-prof`, which the script sets) shows where the time of a routed call goes.
 * Prints ops/s and CPU µs/op; the profile lands in bench/results/profiles/.
 */

import { startCluster } from "../test/cluster/index.ts";
import { ALL_CONTENDERS, type ContenderId, closeContenders, createContenders } from "./lib/contenders.ts";
import { seed, seededId } from "./lib/seed.ts";

const [idArgument = "split", callersArgument = "16", secondsArgument = "5", driverArgument = "postgres"] =
  process.argv.slice(2);
const spec = ALL_CONTENDERS.find((candidate) => candidate.id === (idArgument as ContenderId));
if (spec === undefined)
  throw new Error(`unknown contender ${idArgument}; known: ${ALL_CONTENDERS.map((c) => c.id).join(", ")}`);
const callers = Number(callersArgument);
const seconds = Number(secondsArgument);

const cluster = await startCluster({ replicas: 1 });
try {
  await seed(cluster);
  const [contender] = await createContenders([spec], {
    primaryUrl: cluster.primaryUrl,
    replicaUrl: cluster.replicaUrls[0] as string,
    workload: "reads",
    driver: driverArgument === "in-memory" ? "in-memory" : "postgres",
    splitOptions: JSON.parse(process.env.SPLIT_OPTIONS ?? "{}"),
  });
  if (contender === undefined) throw new Error("no contender");
  try {
    const loop = async (until: number) => {
      let done = 0;
      let index = 0;
      await Promise.all(
        Array.from({ length: callers }, async () => {
          while (performance.now() < until) {
            await contender.client.user.findUnique({ where: { id: seededId(index++) } });
            done++;
          }
        }),
      );
      return done;
    };
    await loop(performance.now() + 1000);
    // What prisma-split did besides running queries: sheds, fall-backs to the primary, retries.
    const happened = new Map<string, number>();
    const events = (contender.client as { $events?: { on(name: string, listener: () => void): void } }).$events;
    for (const name of ["shed", "fallback", "retry", "breaker:open"]) {
      events?.on(name, () => happened.set(name, (happened.get(name) ?? 0) + 1));
    }
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const done = await loop(started + seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    process.stdout.write(
      `${spec.label}, ${callers} callers: ${Math.round(done / elapsed)} ops/s, ${((cpu.user + cpu.system) / done).toFixed(1)} CPU µs/op${[...happened].map(([name, count]) => `, ${name} ${count}`).join("")}\n`,
    );
  } finally {
    await closeContenders([contender]);
  }
} finally {
  await cluster.stop();
}

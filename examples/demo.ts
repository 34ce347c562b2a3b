/**
 * `npm run demo`: a PostgreSQL primary and two streaming replicas on this machine (embedded
 * binaries, nothing to install), the Express example (examples/express/server.ts) in its own
 * process on a free port, and a short mixed HTTP load against it while nodes fail:
 *   (a) normal → (b) a replica killed → (c) the primary killed → (d) the primary restarted →
 *   (e) read-your-writes with replay paused → (f) a switchover → a graceful shutdown.
 * The app gets one multi-host DATABASE_URL (every server: prisma-split finds the writer) and the
 * replicas in DATABASE_REPLICA_URLS, the primary's server last (replica-2: it takes reads only
 * once a switchover has made it a standby).
 * Which node served each request comes from the app's `x-served-by` header, which the app builds
 * from prisma-split's `query` events. Everything it starts is stopped at the end, or on Ctrl-C.
 */
import { type Cluster, startCluster } from "../test/cluster/index.ts";
import { AppProcess } from "./demo/app-process.ts";
import { seedUsers } from "./demo/http.ts";
import { type Demo, failover, gracefulShutdown, metricsExcerpt, readYourWrites } from "./demo/phases.ts";
import { ProgressLine } from "./demo/progress.ts";
import { seconds } from "./demo/report.ts";
import { switchover } from "./demo/switchover.ts";

const started = performance.now();
/** A few concurrent clients, 70 % reads, a short pause between requests: load, not a stress test. */
const LOAD = { workers: 4, readShare: 0.7, pauseMs: 5 };
const PHASE_MS = 3_000;

const progress = new ProgressLine();
let cluster: Cluster | undefined;
let app: AppProcess | undefined;
let interrupted = false;

// Ctrl-C (and a closed terminal, or a kill): stop the app and the servers, then end by the signal.
// `on`, not `once`: while our listener is there, the test cluster's own one leaves the cleanup to us.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    progress.done();
    console.log(`\n${signal}: stopping the app and the cluster...`);
    void stopEverything().finally(() => {
      console.log(`Stopped everything after ${seconds(performance.now() - started)}.`);
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    });
  };
  process.on(signal, onSignal);
}

async function stopEverything(): Promise<void> {
  await app?.stop().catch(() => {});
  await cluster?.stop().catch(() => {});
}

try {
  console.log("Starting a PostgreSQL primary and two streaming replicas (embedded binaries, migrations applied)...");
  cluster = await startCluster({ replicas: 2 });
  const [replica0, replica1] = cluster.replicas;
  console.log(`  primary :${cluster.primary.port}   replica-0 :${replica0?.port}   replica-1 :${replica1?.port}`);

  console.log("Starting the Express example (examples/express/server.ts) in its own process...");
  const hosts = cluster.nodes.map((node) => `127.0.0.1:${node.port}`).join(",");
  app = await AppProcess.start("examples/express/server.ts", {
    DATABASE_URL: `postgresql://postgres@${hosts}/app?target_session_attrs=read-write`,
    DATABASE_REPLICA_URLS: [...cluster.replicaUrls, cluster.primaryUrl].join(","),
    PORT: "0",
    HOST: "127.0.0.1",
  });
  console.log(
    `  ${app.url}   prisma-split's defaults: "fastest" replica reads, read-your-writes "lsn", breakers, retries`,
  );
  const userIds = await seedUsers(app.url, 20);
  await cluster.waitForReplicas();

  const demo: Demo = { cluster, app, progress, load: { baseUrl: app.url, ...LOAD, userIds }, phaseMs: PHASE_MS };
  console.log(
    `\nLoad: ${LOAD.workers} concurrent clients; 70% reads (GET /users/:id, /users, /users/:id/posts), ` +
      "30% writes (POST /users, /users/:id/posts).\n",
  );
  await failover(demo);
  await readYourWrites(demo);
  console.log();
  await switchover(demo);
  console.log();
  await metricsExcerpt(demo);
  console.log();
  await gracefulShutdown(demo);
} catch (error) {
  if (!interrupted) {
    progress.done();
    console.error("\nThe demo failed:", error);
    if (app !== undefined) console.error(`--- the app's output ---\n${app.lines.join("\n")}`);
    process.exitCode = 1;
  }
} finally {
  if (!interrupted) {
    await stopEverything();
    console.log(`\nStopped the app and the three PostgreSQL servers. Total: ${seconds(performance.now() - started)}.`);
  }
}

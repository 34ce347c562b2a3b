import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster } from "../../test/cluster/index.ts";
import type { AppProcess } from "./app-process.ts";
import { send } from "./http.ts";
import { isOk, Load, type LoadOptions, type Sample } from "./load.ts";
import type { ProgressLine } from "./progress.ts";
import { failures, ms, outcomes, percentile, range, seconds, servedByNode, table, tally } from "./report.ts";

const NODES = ["primary", "replica-0", "replica-1"] as const;

/** What every phase works with. */
export interface Demo {
  readonly cluster: Cluster;
  readonly app: AppProcess;
  readonly progress: ProgressLine;
  readonly load: LoadOptions;
  readonly phaseMs: number;
}

/** Prints `text` indented under the phase's progress line. */
export function print(text: string): void {
  console.log(text.replace(/^(?! {4})/gm, "    "));
}

/** Runs `during` while `load` counts its requests into `phase` behind a progress line; waits for the last answers. */
async function phase<T>(demo: Demo, load: Load, key: string, title: string, during: () => Promise<T>): Promise<T> {
  load.phase = key;
  const since = performance.now();
  demo.progress.start(() => progressLine(title, load.of(key), since));
  try {
    return await during();
  } finally {
    load.phase = "between";
    await load.settled(key);
    demo.progress.done();
  }
}

function progressLine(title: string, samples: readonly Sample[], since: number): string {
  const count = (kind: Sample["kind"], test: (s: Sample) => boolean) =>
    samples.filter((s) => s.kind === kind && test(s)).length;
  const otherWriteFailures = count("write", (s) => !isOk(s) && s.status !== 503);
  return (
    `${title.padEnd(21)}${seconds(performance.now() - since).padStart(6)}  ` +
    `reads ${count("read", isOk)} ok, ${count("read", (s) => !isOk(s))} failed  ` +
    `writes ${count("write", isOk)} ok, ${count("write", (s) => s.status === 503)} × 503` +
    (otherWriteFailures > 0 ? `, ${otherWriteFailures} failed` : "")
  );
}

/** (a) to (d): one load running on while nodes fail and come back. */
export async function failover(demo: Demo): Promise<void> {
  const { cluster, app } = demo;
  const replica1 = cluster.replicas[1]!;
  const load = new Load(demo.load, "between");
  try {
    // (a) normal
    await phase(demo, load, "a", "(a) normal", () => sleep(demo.phaseMs));
    print(table(["node", "reads", "writes"], servedByNode(load.of("a"), NODES)));
    print(`failed: reads ${failures(load.of("a"), "read")}, writes ${failures(load.of("a"), "write")}`);

    // (b) a replica killed
    const replicaDownAt = await phase(demo, load, "b", "(b) replica-1 killed", async () => {
      await replica1.kill();
      const at = performance.now();
      await sleep(demo.phaseMs);
      return at;
    });
    print("requests sent after replica-1 went down (immediate shutdown, like a crash):");
    print(table(["node", "reads", "writes"], servedByNode(after(load.of("b"), replicaDownAt), NODES)));
    print(
      `failed, in the whole phase (requests in flight at the crash included): ` +
        `reads ${failures(load.of("b"), "read")}, writes ${failures(load.of("b"), "write")}`,
    );
    await replica1.start();
    print("replica-1 restarted: the replica monitor puts it back in rotation once it answers and has caught up");

    // (c) the primary killed
    const { primaryDownAt, live, ready } = await phase(demo, load, "c", "(c) primary killed", async () => {
      await cluster.primary.kill();
      const at = performance.now();
      await sleep(demo.phaseMs);
      const [live, ready] = await Promise.all([send(app.url, "GET", "/health"), send(app.url, "GET", "/health/ready")]);
      return { primaryDownAt: at, live: live.status, ready: ready.status };
    });
    const down = after(load.of("c"), primaryDownAt);
    // Every 503 of the phase, those of the writes in flight while the primary went down included.
    const refused = load.of("c").filter((s) => s.kind === "write" && s.status === 503);
    const times = refused.map((s) => s.ms);
    print("requests sent after the primary went down:");
    print(
      table(
        ["node", "reads", "writes ok", "writes 503"],
        servedByNode(down, NODES).map(([node, reads, writes]) => [
          node,
          reads,
          writes,
          node === "primary" ? down.filter((s) => s.kind === "write" && s.status === 503).length : "",
        ]),
      ),
    );
    print(
      `writes: ${refused.length} answered 503, ${refused.filter((s) => s.retryAfter !== undefined).length} with ` +
        `Retry-After (${range(refused.map((s) => Number(s.retryAfter)))} s), reasons: ${tally(refused.map((s) => s.reason ?? "?"))}`,
    );
    print(
      `time to the 503 (client round trip): median ${ms(percentile(times, 50))}, ` +
        `95th percentile ${ms(percentile(times, 95))}, slowest ${ms(percentile(times, 100))}`,
    );
    print(
      `reads: ${down.filter((s) => s.kind === "read" && isOk(s)).length} answered, ${failures(down, "read")} failed`,
    );
    print(
      `GET /health → ${live} (liveness never asks the database), GET /health/ready → ${ready}` +
        (ready === 200 ? " (the replicas answer: the app stays in the load balancer)" : ""),
    );

    // (d) the primary restarted
    const { restartedAt, firstWrite } = await phase(demo, load, "d", "(d) primary restarted", async () => {
      await cluster.primary.start();
      const at = performance.now();
      const first = await waitFor(() => after(load.of("d"), at).find((s) => s.kind === "write" && isOk(s)), 15_000);
      await sleep(1_500);
      return { restartedAt: at, firstWrite: first };
    });
    print(table(["node", "reads", "writes ok"], servedByNode(load.of("d"), NODES)));
    print(
      firstWrite === undefined
        ? "writes did not resume within 15 s"
        : `writes resumed ${seconds(firstWrite.startedAt + firstWrite.ms - restartedAt)} after the primary was back, ` +
            `in the same app process; ${load.of("d").filter((s) => s.kind === "write" && s.status === 503).length} × 503 before that\n` +
            "(the primary's breaker opened in (c); prisma-split kept asking the servers which one takes writes, and " +
            "reconnected as soon as the primary answered again, or its breaker's trial write succeeded)",
    );
    print(`failed reads: ${failures(load.of("d"), "read")}`);
  } finally {
    await load.stop();
  }
}

function after(samples: readonly Sample[], at: number): Sample[] {
  return samples.filter((s) => s.startedAt >= at);
}

/** (e): writes, each read back at once with and without its token, while no replica replays WAL. */
export async function readYourWrites(demo: Demo, rounds = 10): Promise<void> {
  const { cluster, app } = demo;
  await cluster.waitForReplicas(30_000);
  await Promise.all(cluster.replicas.map((replica) => cluster.pauseReplay(replica)));
  console.log(`(e) read-your-writes: WAL replay paused on both replicas; ${rounds} × a write, then at once a read`);
  const created = [];
  const withToken = [];
  const withoutToken = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const user = await send(app.url, "POST", "/users", { body: { email: `ryw-${process.pid}-${i}@example.test` } });
      created.push(user);
      withToken.push(await send(app.url, "GET", `/users/${user.json.id}`, { token: user.token }));
      withoutToken.push(await send(app.url, "GET", `/users/${user.json.id}`));
    }
  } finally {
    await Promise.all(cluster.replicas.map((replica) => cluster.resumeReplay(replica)));
  }
  const count = (answers: ReadonlyArray<{ status: number }>, status: number) =>
    `${answers.filter((a) => a.status === status).length}/${rounds}`;
  const nodes = (answers: ReadonlyArray<{ servedBy: string }>) => tally(answers.map((a) => a.servedBy));
  print(
    table(
      ["request", "answered", "served by"],
      [
        ["POST /users", `${count(created, 201)} created`, nodes(created)],
        ["GET /users/:id + the write's x-consistency-token", `${count(withToken, 200)} found`, nodes(withToken)],
        ["GET /users/:id without it (the control)", `${count(withoutToken, 200)} found`, nodes(withoutToken)],
      ],
    ),
  );
  // Once replay resumes, the same token's read goes back to a replica: the token asks for a position, not the primary.
  const last = created.at(-1)!;
  const started = performance.now();
  const back = await waitFor(async () => {
    const read = await send(app.url, "GET", `/users/${last.json.id}`, { token: last.token });
    return read.status === 200 && read.servedBy !== "primary" ? read : undefined;
  }, 5_000);
  print(
    back === undefined
      ? "replay resumed: the last token's read still went to the primary after 5 s"
      : `replay resumed: the last token's read is served by ${back.servedBy} again ` +
          `(${seconds(performance.now() - started)}: the replica monitor saw the position replayed)`,
  );
}

/** SIGTERM to the app while the load runs: what was in flight, what came after, how the process ended. */
export async function gracefulShutdown(demo: Demo): Promise<void> {
  const { app } = demo;
  console.log("Graceful shutdown: SIGTERM to the app under load");
  // Twice the clients and no pause: requests are in flight when the signal comes.
  const load = new Load(
    { ...demo.load, workers: demo.load.workers * 2, pauseMs: 0, stopWhenRefused: true },
    "shutdown",
  );
  try {
    await sleep(500);
    const linesBefore = app.lines.length;
    const inFlight = load.inFlight;
    const signalledAt = performance.now();
    app.signal("SIGTERM");
    const exit = await app.exited;
    const exitedAt = performance.now();
    await load.stop();
    for (const line of app.lines.slice(linesBefore)) print(`app: ${line}`);
    const atSignal = load.samples.filter((s) => s.startedAt < signalledAt && s.startedAt + s.ms >= signalledAt);
    print(`requests in flight at the signal: ${inFlight}, answered: ${outcomes(atSignal)}`);
    print(`requests sent after it: ${outcomes(after(load.samples, signalledAt))}`);
    print(
      `the app ended ${exit.signal === null ? `with exit code ${exit.code}` : `by ${exit.signal}, as it would without prisma-split,`} ` +
        `${ms(exitedAt - signalledAt)} after the signal`,
    );
  } finally {
    await load.stop();
  }
}

/** GET /metrics: the lines of prisma-split's routing and breaker counters. */
export async function metricsExcerpt(demo: Demo): Promise<void> {
  const text = (await send(demo.app.url, "GET", "/metrics")).json as string;
  console.log("GET /metrics (prom-client), excerpt: what the app routed during the demo, failed attempts included");
  for (const line of text.split("\n")) {
    if (/^prisma_split_(queries_routed|breaker_transitions|topology_changes)_total\{/.test(line)) print(line);
  }
}

async function waitFor<T>(
  find: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await find();
    if (value !== undefined || performance.now() > deadline) return value;
    await sleep(50);
  }
}

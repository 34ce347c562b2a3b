/**
 * `npm run example:fastify`: the API of app.ts on http://127.0.0.1:3000 (PORT, HOST), on the
 * database in DATABASE_URL / DATABASE_REPLICA_URLS, or, when DATABASE_URL is unset, on a primary
 * and two replicas started on this machine for the occasion.
 *
 * Shutdown (SIGTERM from Kubernetes, or Ctrl-C) is prisma-split's own signal handling, in the
 * order a load balancer needs:
 *   1. readiness off: /health/ready answers 503 (prisma-split, at once);
 *   2. stop accepting: app.close() (here, on `shutdown:start`); Fastify answers 503 to requests
 *      that still arrive on open keep-alive connections (return503OnClosing);
 *   3. drain: in-flight requests and their queries finish (bounded by shutdown.timeoutMs);
 *   4. disconnect: the onClose hook's db.$disconnect() joins prisma-split's shutdown; then the
 *      signal is raised again and the process ends by it (exit status 143 for SIGTERM).
 * In Kubernetes, give the endpoints time to drop the pod before the signal: a preStop
 * `sleep 5`, and terminationGracePeriodSeconds above 5 + shutdown.timeoutMs + a few seconds.
 */
import { collectDefaultMetrics } from "prom-client";
import { createDb } from "../../src/index.ts";
import { PrismaClient } from "../../test/generated/prisma/client.ts";
import { exampleDatabase } from "../shared/database.ts";
import { buildApp } from "./app.ts";

const log = (line: string) => console.log(`[fastify] ${line}`);
const database = await exampleDatabase(log);

const db = createDb({ PrismaClient, primaryUrl: database.primaryUrl, replicaUrls: database.replicaUrls });
collectDefaultMetrics(); // process metrics next to prisma-split's on /metrics
const app = await buildApp(db);

db.$events.on("shutdown:start", ({ trigger }) => {
  log(`${trigger}: readiness off; no new connections; closing the app`);
  void app.close().then(() => log("app closed: every accepted request was answered"));
});
db.$events.on("shutdown:done", ({ drained, cancelled, durationMs }) => {
  log(
    `database: ${drained ? "every in-flight query finished" : `${cancelled} query(ies) cancelled after the drain timeout`}; ` +
      `clients and pools closed in ${Math.round(durationMs)} ms`,
  );
  // Only the throwaway cluster; a real database stays up, of course. The process then ends by the signal.
  void database.embedded?.stop().then(() => log("embedded cluster stopped"));
});

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? "127.0.0.1" });
// No replica count here: DATABASE_REPLICA_URLS goes to createDb whole (`npx prisma-split doctor` lists what it finds).
log(`listening on ${address}`);

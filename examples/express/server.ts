/**
 * `npm run example:express`: the API of app.ts on http://127.0.0.1:3000 (PORT, HOST), on the
 * database in DATABASE_URL / DATABASE_REPLICA_URLS, or, when DATABASE_URL is unset, on a primary
 * and two replicas started on this machine for the occasion.
 *
 * Shutdown (SIGTERM from Kubernetes, or Ctrl-C) is prisma-split's own signal handling, in the
 * order a load balancer needs:
 *   1. readiness off: /health/ready answers 503 (prisma-split, at once);
 *   2. stop accepting: server.close() (here, on `shutdown:start`);
 *   3. drain: in-flight queries finish (bounded by shutdown.timeoutMs), so do their requests;
 *   4. disconnect: every client and pool closes; the signal is raised again and the process ends
 *      by it (exit status 143 for SIGTERM), as it would have without prisma-split.
 * In Kubernetes, give the endpoints time to drop the pod before the signal: a preStop
 * `sleep 5`, and terminationGracePeriodSeconds above 5 + shutdown.timeoutMs + a few seconds.
 */
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics } from "prom-client";
import { createDb } from "../../src/index.ts";
import { PrismaClient } from "../../test/generated/prisma/client.ts";
import { exampleDatabase } from "../shared/database.ts";
import { createApp } from "./app.ts";

const log = (line: string) => console.log(`[express] ${line}`);
const database = await exampleDatabase(log);

const db = createDb({ PrismaClient, primaryUrl: database.primaryUrl, replicaUrls: database.replicaUrls });
collectDefaultMetrics(); // process metrics next to prisma-split's on /metrics
const server = createApp(db).listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address() as AddressInfo;
  // No replica count here: DATABASE_REPLICA_URLS goes to createDb whole (`npx prisma-split doctor` lists what it finds).
  log(`listening on http://${address}:${port}`);
});

let inFlight = 0;
server.on("request", (_request, response) => {
  inFlight += 1;
  response.once("close", () => {
    inFlight -= 1;
  });
});

db.$events.on("shutdown:start", ({ trigger }) => {
  log(`${trigger}: readiness off; no new connections; ${inFlight} request(s) in flight`);
  server.close(() => log("HTTP server closed: every accepted request was answered"));
});
db.$events.on("shutdown:done", ({ drained, cancelled, durationMs }) => {
  log(
    `database: ${drained ? "every in-flight query finished" : `${cancelled} query(ies) cancelled after the drain timeout`}; ` +
      `clients and pools closed in ${Math.round(durationMs)} ms`,
  );
  // Only the throwaway cluster; a real database stays up, of course. The process then ends by the signal.
  void database.embedded?.stop().then(() => log("embedded cluster stopped"));
});

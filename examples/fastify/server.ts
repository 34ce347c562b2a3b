/**
 * `npm run example:fastify`: the API of app.ts on http://127.0.0.1:3000 (PORT, HOST), on the
 * database in DATABASE_URL / DATABASE_REPLICA_URLS, or, when DATABASE_URL is unset, on a primary
 * and two replicas started on this machine for the occasion.
 *
 * Shutdown (SIGTERM from Kubernetes, or Ctrl-C) is prisma-split's own signal handling, with the
 * app handed to it by `drainOnShutdown(db, app)`, in the order a load balancer needs:
 *   1. readiness off: /health/ready answers 503, and the server stops accepting connections;
 *   2. the requests already taken are answered (the database still serves them), with
 *      `Connection: close`; idle keep-alive connections close at once; a request that arrives
 *      later gets a 503 `shutting-down`; what is still open at shutdown.timeoutMs is destroyed;
 *   3. `app.close()` runs the app's onClose hooks (its db.$disconnect() included);
 *   4. the database closes; the process ends by the signal (exit status 143 for SIGTERM).
 * In Kubernetes, give the endpoints time to drop the pod before the signal: a preStop
 * `sleep 5`, and terminationGracePeriodSeconds above 5 + shutdown.timeoutMs + a few seconds.
 */
import { collectDefaultMetrics } from "prom-client";
import { createDb, drainOnShutdown } from "../../src/index.ts";
import { PrismaClient } from "../../test/generated/prisma/client.ts";
import { exampleDatabase } from "../shared/database.ts";
import { logShutdown } from "../shared/shutdown-log.ts";
import { buildApp } from "./app.ts";

const log = (line: string) => console.log(`[fastify] ${line}`);
const database = await exampleDatabase(log);

const db = createDb({ PrismaClient, primaryUrl: database.primaryUrl, replicaUrls: database.replicaUrls });
collectDefaultMetrics(); // process metrics next to prisma-split's on /metrics
const app = await buildApp(db);

drainOnShutdown(db, app);
logShutdown(db.$events, database, log);

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? "127.0.0.1" });
// No replica count here: DATABASE_REPLICA_URLS goes to createDb whole (`npx prisma-split doctor` lists what it finds).
log(`listening on ${address}`);

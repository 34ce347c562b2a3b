/**
 * A small users-and-posts API on Express 5 and prisma-split. `createApp(db)` builds it from any
 * createDb() client: server.ts runs it, the tests and `npm run demo` start it on a free port.
 *
 *   POST /users             { email, name? }   → 201 user         (primary)
 *   GET  /users?limit=20                       → 200 [user]       (a replica)
 *   GET  /users/:id                            → 200 user | 404   (a replica)
 *   POST /users/:id/posts   { title, body? }   → 201 post | 404   (primary)
 *   GET  /users/:id/posts                      → 200 [post] | 404 (a replica)
 *   GET  /health, /health/ready, /metrics
 *
 * Every response to a request that queried says which nodes answered (`x-served-by`) and, after
 * a write, carries a consistency token (`x-consistency-token`): send it back on the next request
 * and that request reads its own writes, on any instance of the app.
 */
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import { register } from "prom-client";
import {
  databaseUnavailableMiddleware,
  expressConsistency,
  healthHandlers,
  type SplitClient,
} from "../../src/index.ts";
import type { PrismaClient } from "../../test/generated/prisma/client.ts";
import { apiErrorOf, notFound } from "../shared/api-errors.ts";
import { SERVED_BY_HEADER, ServedBy } from "../shared/served-by.ts";

/** The client the app runs on: `createDb({ PrismaClient })` with your generated PrismaClient. */
export type Db = SplitClient<PrismaClient>;

export function createApp(db: Db): Express {
  const app = express();
  // The diagnostics endpoint exists only with a token (set DIAGNOSTICS_TOKEN, 16+ characters).
  const health = healthHandlers(db, { diagnosticsToken: process.env.DIAGNOSTICS_TOKEN });

  // Probes and scrapes first: no body parsing, no consistency context, no database for liveness.
  app.get("/health", health.live);
  app.get("/health/ready", health.ready);
  app.get("/health/diagnostics", health.diagnostics);
  app.get("/metrics", async (_request, response) => {
    // prisma-split's metrics are in prom-client's global registry by default.
    response.type(register.contentType).send(await register.metrics());
  });

  app.use(express.json());
  // One consistency context per request, resumed from the x-consistency-token header.
  app.use(expressConsistency(db));
  app.use(servedByHeader(new ServedBy(db)));

  app.post("/users", async (request, response) => {
    const { email, name } = request.body ?? {};
    if (!isEmail(email)) return void response.status(400).json(badRequest("email must be an e-mail address"));
    const user = await db.user.create({ data: { email, name: typeof name === "string" ? name : null } });
    response.status(201).json(user);
  });

  app.get("/users", async (request, response) => {
    const take = Math.min(Math.max(Number.parseInt(String(request.query.limit ?? "20"), 10) || 20, 1), 100);
    response.json(await db.user.findMany({ orderBy: { id: "desc" }, take }));
  });

  app.get("/users/:id", async (request, response) => {
    const id = idOf(request.params.id);
    if (id === undefined) return void response.status(400).json(badRequest("id must be a positive integer"));
    const user = await db.user.findUnique({ where: { id } });
    if (user === null) return void response.status(404).json(notFound);
    response.json(user);
  });

  app.post("/users/:id/posts", async (request, response) => {
    const authorId = idOf(request.params.id);
    const { title, body } = request.body ?? {};
    if (authorId === undefined) return void response.status(400).json(badRequest("id must be a positive integer"));
    if (typeof title !== "string" || title === "")
      return void response.status(400).json(badRequest("title is required"));
    // No existence check first: the foreign key answers (P2003 → 404) in the same round trip.
    const post = await db.post.create({ data: { title, body: typeof body === "string" ? body : null, authorId } });
    response.status(201).json(post);
  });

  app.get("/users/:id/posts", async (request, response) => {
    const id = idOf(request.params.id);
    if (id === undefined) return void response.status(400).json(badRequest("id must be a positive integer"));
    // One routed call: 404 for a missing user and the posts of an existing one, from the same replica.
    const user = await db.user.findUnique({ where: { id }, select: { posts: { orderBy: { id: "asc" } } } });
    if (user === null) return void response.status(404).json(notFound);
    response.json(user.posts);
  });

  // After the routes: a DatabaseUnavailableError (primary down, shutting down, overloaded)
  // becomes 503 + Retry-After + JSON; everything else goes on to the app's own handler.
  app.use(databaseUnavailableMiddleware());
  app.use(apiErrors);
  return app;
}

/** Sets `x-served-by` just before the response's head is written, from the request's own queries. */
function servedByHeader(servedBy: ServedBy): RequestHandler {
  return (_request, response, next) => {
    const nodes: string[] = [];
    const writeHead = response.writeHead;
    response.writeHead = function (this: typeof response, ...args: unknown[]) {
      const value = ServedBy.header(nodes);
      if (value !== undefined && !this.headersSent) this.setHeader(SERVED_BY_HEADER, value);
      return (writeHead as (...args: unknown[]) => typeof response).apply(this, args);
    } as typeof response.writeHead;
    servedBy.run(nodes, next);
  };
}

const apiErrors: ErrorRequestHandler = (error, _request, response, next) => {
  if (response.headersSent) return next(error);
  const answer = apiErrorOf(error);
  if (answer !== undefined) return void response.status(answer.status).json(answer.body);
  // express.json()'s own errors (malformed JSON, too large) carry a 4xx status.
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return void response.status(status).json(badRequest((error as Error).message));
  }
  console.error(error);
  response.status(500).json({ error: "INTERNAL", message: "internal error" });
};

function badRequest(message: string) {
  return { error: "BAD_REQUEST", message };
}

function isEmail(value: unknown): value is string {
  return typeof value === "string" && /^[^@\s]+@[^@\s]+$/.test(value);
}

/** A path id within PostgreSQL's `integer`, else undefined. */
function idOf(text: string | undefined): number | undefined {
  const id = Number(text);
  return Number.isInteger(id) && id > 0 && id <= 2_147_483_647 ? id : undefined;
}

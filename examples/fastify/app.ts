/**
 * The users-and-posts API of examples/express in Fastify's idiom: plugins, JSON-schema
 * validation, an error handler, an onClose hook. `buildApp(db)` is what server.ts runs and what
 * the tests start.
 *
 *   POST /users             { email, name? }   → 201 user         (primary)
 *   GET  /users?limit=20                       → 200 [user]       (a replica)
 *   GET  /users/:id                            → 200 user | 404   (a replica)
 *   POST /users/:id/posts   { title, body? }   → 201 post | 404   (primary)
 *   GET  /users/:id/posts                      → 200 [post] | 404 (a replica)
 *   GET  /health, /health/ready, /metrics
 */
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyPluginCallback,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import { register } from "prom-client";
import {
  databaseUnavailableErrorHandler,
  fastifyConsistency,
  healthHandlers,
  type SplitClient,
} from "../../src/index.ts";
import type { PrismaClient } from "../../test/generated/prisma/client.ts";
import { apiErrorOf, notFound } from "../shared/api-errors.ts";
import { SERVED_BY_HEADER, ServedBy } from "../shared/served-by.ts";

/** The client the app runs on: `createDb({ PrismaClient })` with your generated PrismaClient. */
export type Db = SplitClient<PrismaClient>;

/**
 * The app, ready to `listen()`. Closing it (`app.close()`) stops accepting, lets in-flight
 * requests finish, then disconnects `db` (onClose): the app owns the client.
 */
export async function buildApp(db: Db, options: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(options);

  // One consistency context per request, resumed from the x-consistency-token header.
  await app.register(fastifyConsistency(db));
  await app.register(servedByHeader(new ServedBy(db)));

  const unavailable = databaseUnavailableErrorHandler();
  app.setErrorHandler((error, request, reply) => {
    const answer = apiErrorOf(error);
    if (answer !== undefined) return reply.code(answer.status).send(answer.body);
    // A DatabaseUnavailableError becomes 503 + Retry-After + JSON; anything else is rethrown to
    // Fastify's default handler (400 for validation errors, 500 otherwise, logged).
    return unavailable(error, request, reply);
  });
  app.addHook("onClose", async () => {
    // On a plain app.close() (the tests), the app's end is the client's. On SIGTERM, server.ts's
    // drainOnShutdown() calls app.close() once the server has drained: this disconnects the
    // pools a little early, and prisma-split's shutdown then finishes the close.
    await db.$disconnect();
  });

  const health = healthHandlers(db);
  app.get("/health", health.live);
  app.get("/health/ready", health.ready);
  app.get("/metrics", async (_request, reply) => {
    // prisma-split's metrics are in prom-client's global registry by default.
    return reply.type(register.contentType).send(await register.metrics());
  });

  await app.register(usersRoutes(db), { prefix: "/users" });
  return app;
}

const idParams = {
  type: "object",
  properties: { id: { type: "integer", minimum: 1, maximum: 2_147_483_647 } },
  required: ["id"],
} as const;

/** The API's routes, as an encapsulated plugin (the consistency and served-by hooks still reach them). */
function usersRoutes(db: Db): FastifyPluginAsync {
  return async (routes) => {
    routes.post<{ Body: { email: string; name?: string } }>(
      "/",
      {
        schema: {
          body: {
            type: "object",
            properties: { email: { type: "string", pattern: "^[^@\\s]+@[^@\\s]+$" }, name: { type: "string" } },
            required: ["email"],
          },
        },
      },
      async (request, reply) => {
        const { email, name } = request.body;
        return reply.code(201).send(await db.user.create({ data: { email, name: name ?? null } }));
      },
    );

    routes.get<{ Querystring: { limit: number } }>(
      "/",
      {
        schema: {
          querystring: {
            type: "object",
            properties: { limit: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
          },
        },
      },
      async (request) => db.user.findMany({ orderBy: { id: "desc" }, take: request.query.limit }),
    );

    routes.get<{ Params: { id: number } }>("/:id", { schema: { params: idParams } }, async (request, reply) => {
      const user = await db.user.findUnique({ where: { id: request.params.id } });
      return user ?? reply.code(404).send(notFound);
    });

    routes.post<{ Params: { id: number }; Body: { title: string; body?: string } }>(
      "/:id/posts",
      {
        schema: {
          params: idParams,
          body: {
            type: "object",
            properties: { title: { type: "string", minLength: 1 }, body: { type: "string" } },
            required: ["title"],
          },
        },
      },
      async (request, reply) => {
        const { title, body } = request.body;
        // No existence check first: the foreign key answers (P2003 → 404) in the same round trip.
        const post = await db.post.create({ data: { title, body: body ?? null, authorId: request.params.id } });
        return reply.code(201).send(post);
      },
    );

    routes.get<{ Params: { id: number } }>("/:id/posts", { schema: { params: idParams } }, async (request, reply) => {
      // One routed call: 404 for a missing user and the posts of an existing one, from the same replica.
      const user = await db.user.findUnique({
        where: { id: request.params.id },
        select: { posts: { orderBy: { id: "asc" } } },
      });
      return user === null ? reply.code(404).send(notFound) : user.posts;
    });
  };
}

/**
 * A plugin that opens the request's served-by list around the rest of its lifecycle and sets
 * `x-served-by` on the reply. Not encapsulated (Fastify's `skip-override` marker, what
 * fastify-plugin sets), so its hooks reach every route.
 */
function servedByHeader(servedBy: ServedBy): FastifyPluginCallback {
  const nodesOf = new WeakMap<FastifyRequest, string[]>();
  const plugin: FastifyPluginCallback = (app, _options, done) => {
    app.addHook("onRequest", (request, _reply, hookDone) => {
      const nodes: string[] = [];
      nodesOf.set(request, nodes);
      servedBy.run(nodes, hookDone);
    });
    app.addHook("onSend", async (request, reply, payload) => {
      const value = ServedBy.header(nodesOf.get(request) ?? []);
      if (value !== undefined) reply.header(SERVED_BY_HEADER, value);
      return payload;
    });
    app.addHook("onClose", async () => servedBy.stop());
    done();
  };
  Object.defineProperty(plugin, Symbol.for("skip-override"), { value: true });
  return plugin;
}

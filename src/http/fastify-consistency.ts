import { AsyncLocalStorage } from "node:async_hooks";
import { type ConsistencyClient, type ConsistencyHttpOptions, TokenCarrier } from "./token-carrier.js";

type HeaderValue = string | string[] | number | undefined;

/** The parts of Fastify the plugin touches (no type dependency on fastify). */
interface FastifyLike {
  addHook(
    name: "onRequest",
    hook: (request: RequestLike, reply: unknown, done: (error?: Error) => void) => void,
  ): unknown;
  addHook(
    name: "onSend",
    hook: (
      request: RequestLike,
      reply: ReplyLike,
      payload: unknown,
      done: (error: Error | null, payload: unknown) => void,
    ) => void,
  ): unknown;
}
interface RequestLike {
  readonly headers: Record<string, HeaderValue>;
}
interface ReplyLike {
  header(name: string, value: string): unknown;
}

/**
 * A Fastify plugin: each request runs in its own consistency context, resumed from the
 * request's token (header or cookie); the reply carries the context's token when it has one.
 * It applies to the whole app (not encapsulated, like a `fastify-plugin` plugin).
 *
 * @example
 * await app.register(fastifyConsistency(db, { header: "x-consistency-token" }));
 */
export function fastifyConsistency(
  db: ConsistencyClient,
  options: ConsistencyHttpOptions = {},
): (app: FastifyLike, pluginOptions: unknown, done: (error?: Error) => void) => void {
  const carrier = new TokenCarrier(options, "fastifyConsistency");
  const tokenOf = new WeakMap<RequestLike, () => string | undefined>();
  const plugin = (app: FastifyLike, _pluginOptions: unknown, done: (error?: Error) => void) => {
    app.addHook("onRequest", (request, _reply, hookDone) => {
      db.$withConsistency(carrier.read(request.headers, db.$events), () => {
        tokenOf.set(
          request,
          AsyncLocalStorage.bind(() => db.$consistencyToken()),
        );
        hookDone();
      }).catch(hookDone);
    });
    app.addHook("onSend", (request, reply, payload, hookDone) => {
      // Fastify appends to Set-Cookie by itself.
      carrier.write(
        {
          setHeader: (name, value) => reply.header(name, value),
          appendCookie: (cookie) => reply.header("set-cookie", cookie),
        },
        tokenOf.get(request)?.(),
      );
      hookDone(null, payload);
    });
    done();
  };
  // Fastify's own marker (what fastify-plugin sets): the hooks reach every route, not only this plugin's.
  Object.defineProperty(plugin, Symbol.for("skip-override"), { value: true });
  return plugin;
}

import { Server } from "node:http";
import { Server as HttpsServer } from "node:https";
import { type FlushableLogger, flushLogger } from "../lifecycle/logger.js";
import {
  type RefusalResponse,
  type ServedServer,
  ServerDrain,
  type ServerDrainReport,
} from "../lifecycle/server-drain.js";
import { FORCE_GRACE_MS } from "../lifecycle/shutdown.js";
import { splitStateOf } from "../split-state.js";
import { unavailableResponse } from "./unavailable-response.js";

/**
 * A Fastify instance, as far as the drain needs it: its `node:http` server, its `close()` (its
 * `onClose` hooks run while the database still serves them) and its pino logger.
 */
export interface FastifyLike {
  readonly server: Server;
  close(): PromiseLike<unknown>;
  /** Flushed at the end when it has pino's `flush(cb)` (Fastify's logger type does not declare it). */
  readonly log?: unknown;
}

/**
 * Hands an HTTP server to `db`'s graceful shutdown (a signal, or `db.$shutdown()`), so that
 * keep-alive clients neither hold the process open nor get a reset:
 *
 * 1. readiness turns off (`/health/ready` answers 503) and the server stops accepting;
 * 2. requests it already took are answered by the app, with `Connection: close`, the database
 *    still serving them; idle keep-alive connections are closed at once; a request that arrives
 *    after the signal gets 503 `shutting-down` with `Retry-After` and never reaches the app;
 * 3. at `shutdown.timeoutMs`, whatever is still open is destroyed;
 * 4. a Fastify instance is then closed (`app.close()`: its `onClose` hooks), the database drains
 *    and closes, the loggers flush, and after a signal the process ends with the signal's status.
 *
 * Call it before `listen()`, or right after: connections accepted before it are only closed at
 * the end. Returns a function that takes the server out of the shutdown again.
 *
 * @example
 * const db = createDb({ PrismaClient, logger });
 * const server = app.listen(3000);   // Express (or http.createServer(handler).listen(3000))
 * drainOnShutdown(db, server);
 *
 * const app = Fastify({ loggerInstance: logger });
 * drainOnShutdown(db, app);          // Fastify: its server, its close() and its logger
 */
export function drainOnShutdown(db: object, server: Server | HttpsServer | FastifyLike): () => void {
  const state = splitStateOf(db);
  if (state === undefined) {
    throw new TypeError("drainOnShutdown(db, server): db must be a client made by createDb()");
  }
  const refusal = refusalResponse(state.closedError());
  if (server instanceof Server || server instanceof HttpsServer)
    return state.addServer(servedNodeServer(new ServerDrain(server, refusal)));
  if (isFastifyLike(server)) return state.addServer(servedFastify(server, new ServerDrain(server.server, refusal)));
  throw new TypeError(
    "drainOnShutdown(db, server): server must be a node:http or node:https Server (what Express's app.listen() returns) " +
      "or a Fastify instance",
  );
}

function servedNodeServer(drain: ServerDrain): ServedServer {
  return { drain: (deadline) => drain.drain(deadline) };
}

function servedFastify(app: FastifyLike, drain: ServerDrain): ServedServer {
  return {
    async drain(deadline: number): Promise<ServerDrainReport> {
      const report = await drain.drain(deadline);
      // Its server is closed already; close() runs the app's onClose hooks. Bounded like the rest.
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
      });
      await Promise.race([Promise.resolve(app.close()).catch(() => {}), expired]);
      clearTimeout(timer);
      return report;
    },
    flushLogs: () => flushLogger(app.log as FlushableLogger | undefined, FORCE_GRACE_MS),
  };
}

function isFastifyLike(value: unknown): value is FastifyLike {
  const candidate = value as Partial<FastifyLike> | null;
  return (
    typeof candidate?.close === "function" &&
    (candidate.server instanceof Server || (candidate.server as unknown) instanceof HttpsServer)
  );
}

/** The same 503 the database's own refusal gets (`shutting-down`), closing the connection. */
function refusalResponse(error: Error): RefusalResponse {
  const answer = unavailableResponse(error);
  if (answer === undefined) throw error;
  const body = JSON.stringify(answer.body);
  return {
    headers: { ...answer.headers, Connection: "close", "Content-Length": String(Buffer.byteLength(body)) },
    body,
  };
}

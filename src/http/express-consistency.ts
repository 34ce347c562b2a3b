import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type ConsistencyClient,
  type ConsistencyHttpOptions,
  type ResponseHeaders,
  TokenCarrier,
} from "./token-carrier.js";

/**
 * Express (or Connect, or plain `http`) middleware: each request runs in its own consistency
 * context, resumed from the request's token (header or cookie), and the response carries the
 * context's token when it has one, so the client's next request, on any app instance, reads its
 * own writes. Mount it after body parsers.
 *
 * @example
 * app.use(express.json());
 * app.use(expressConsistency(db)); // reads/writes the x-consistency-token header
 */
export function expressConsistency(
  db: ConsistencyClient,
  options: ConsistencyHttpOptions = {},
): (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void {
  const carrier = new TokenCarrier(options, "expressConsistency");
  return function prismaSplitConsistency(request, response, next) {
    db.$withConsistency(carrier.read(request.headers, db.$events), () => {
      // Bound to this request's context, wherever the response ends up being written from.
      const currentToken = AsyncLocalStorage.bind(() => db.$consistencyToken());
      beforeHeaders(response, () => carrier.write(nodeHeaders(response), currentToken()));
      next();
    }).catch(next);
  };
}

/** Runs `fn` just before the response's head is written (the `on-headers` package's trick). */
function beforeHeaders(response: ServerResponse, fn: () => void): void {
  const writeHead = response.writeHead;
  response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    response.writeHead = writeHead;
    if (!this.headersSent) fn();
    return (writeHead as (...args: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse["writeHead"];
}

function nodeHeaders(response: ServerResponse): ResponseHeaders {
  return {
    setHeader: (name, value) => response.setHeader(name, value),
    appendCookie(cookie) {
      const existing = response.getHeader("set-cookie");
      const cookies = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
      response.setHeader("set-cookie", [...cookies, cookie]);
    },
  };
}

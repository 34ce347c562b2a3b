import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { Server as NetServer, type Socket } from "node:net";
import { Server as TlsServer } from "node:tls";

/** What one server's drain did, for the `shutdown:servers` event. */
export interface ServerDrainReport {
  /** Requests the app was still answering when the drain began; their responses carried `Connection: close`. */
  readonly inFlight: number;
  /** Keep-alive connections idle when the drain began, or when their last response ended: closed at once. */
  readonly idleClosed: number;
  /** Requests parsed after the drain began: answered 503 `shutting-down` without reaching the app. */
  readonly refused: number;
  /** Connections still open at the deadline, destroyed. */
  readonly destroyed: number;
}

/**
 * How long the drain may keep accepting what waits in the listen backlog before it closes the
 * listening socket anyway (clients that keep opening connections would hold it open for ever).
 */
const BACKLOG_TURNS_MAX_MS = 1_000;

/** A server as the final shutdown sees it: drained first, its logs flushed last. */
export interface ServedServer {
  /** Drains and closes it, by `deadline` (a `performance.now()` time). */
  drain(deadline: number): Promise<ServerDrainReport>;
  /** Writes out what its own logger buffered (Fastify's `app.log`). */
  flushLogs?(): Promise<void>;
}

/** The 503 a request gets once the drain began, as a raw HTTP/1.1 response and as headers plus body. */
export interface RefusalResponse {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Drains one `node:http` or `node:https` server (Express's `app.listen()` result, Fastify's
 * `app.server`) without letting keep-alive connections hold it open or reset a request:
 *
 * - the listening socket closes (new connections are refused) once the connections waiting in
 *   its backlog are accepted (closing resets them) but, unlike `server.close()`, no idle
 *   connection is destroyed: destroying one races with a request the client is writing
 *   on it at that moment, which then ends in ECONNRESET although it never reached the app;
 * - every response still being written carries `Connection: close` (the last one of its
 *   connection, when requests were pipelined), and its connection ends after it;
 * - an idle connection gets a `503` with `Connection: close` and is half-closed at once: a client
 *   that was not sending drops it (Node's agent and undici do so silently), and a client whose
 *   request crossed it reads the 503 as that request's answer. Such connections stay readable
 *   until the client closes its side, so the 503 is never cut by a reset;
 * - a request parsed after the drain began gets the same 503 and never reaches the app;
 * - at the deadline, whatever is still open is destroyed.
 *
 * Connections are tracked from construction on; one accepted before (and idle ever since) is
 * closed by `closeIdleConnections()` once the rest are done.
 */
export class ServerDrain {
  readonly server: HttpServer | HttpsServer;
  readonly #refusal: RefusalResponse;
  /** Every open connection, with the responses the app is writing on it. */
  readonly #connections = new Map<Socket, Set<ServerResponse>>();
  /** Connections that got the 503 and were half-closed: nothing more is written on them. */
  readonly #saidGoodbye = new WeakSet<Socket>();
  #draining = false;
  /** False once the drain closed the listening socket. */
  #listening = true;
  /** Requests parsed while the listening socket was still open, refused once it is closed. */
  readonly #held: ServerResponse[] = [];
  /** Connections accepted so far ('connection' events). */
  #accepted = 0;
  #inFlight = 0;
  #idleClosed = 0;
  #refused = 0;
  #whenEmpty: (() => void) | undefined;

  constructor(server: HttpServer | HttpsServer, refusal: RefusalResponse) {
    this.server = server;
    this.#refusal = refusal;
    // The TLS socket carries the requests of an https server; the TCP one under it is not written to.
    server.on(server instanceof TlsServer ? "secureConnection" : "connection", (socket: Socket) => {
      this.#accepted++;
      this.#track(socket);
    });
    server.prependListener("request", this.#onRequest);
  }

  /** Whether the drain has begun. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Stops accepting, answers and closes as described above, and resolves when every connection
   * has closed, or at `deadline` (a `performance.now()` time) after destroying what is left.
   */
  async drain(deadline: number): Promise<ServerDrainReport> {
    this.#draining = true;
    for (const responses of this.#connections.values()) this.#inFlight += responses.size;
    // Requests parsed from now on are refused here; the app's listeners have served their last.
    for (const listener of this.server.listeners("request")) {
      if (listener !== this.#onRequest) this.server.removeListener("request", listener as never);
    }
    await this.#acceptBacklog(deadline);
    // net.Server's close: the listening socket only. http.Server's own close() also destroys the
    // idle connections at once, which is the race described above.
    if (this.server.listening) NetServer.prototype.close.call(this.server);
    this.#listening = false;
    for (const response of this.#held.splice(0)) this.#refuse(response);
    for (const [socket, responses] of this.#connections) {
      if (responses.size === 0) this.#sayGoodbye(socket);
      // Only the last: Node drops the responses queued behind one that closes the connection
      // (pipelining). A refusal there says `Connection: close` itself.
      const last = [...responses].at(-1);
      if (last !== undefined && !last.headersSent) last.setHeader("Connection", "close");
    }
    const destroyed = await this.#settle(deadline);
    this.server.closeIdleConnections();
    return { inFlight: this.#inFlight, idleClosed: this.#idleClosed, refused: this.#refused, destroyed };
  }

  /**
   * Closing the listening socket resets the connections still waiting in its backlog, requests
   * already written and all. The event loop accepts one of them per turn: turn until a turn
   * brings none (bounded). Nothing said in the meantime may make a client reconnect (it would
   * land in that backlog): refusals wait, and no connection is closed yet.
   */
  async #acceptBacklog(deadline: number): Promise<void> {
    const until = Math.min(deadline, performance.now() + BACKLOG_TURNS_MAX_MS);
    for (let seen = -1; seen !== this.#accepted && performance.now() < until; ) {
      seen = this.#accepted;
      await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    }
  }

  async #settle(deadline: number): Promise<number> {
    if (this.#connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#whenEmpty = resolve;
        timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
      });
      clearTimeout(timer);
    }
    const destroyed = this.#connections.size;
    for (const socket of this.#connections.keys()) socket.destroy();
    this.#connections.clear();
    this.server.closeAllConnections();
    return destroyed;
  }

  readonly #track = (socket: Socket): Set<ServerResponse> => {
    let responses = this.#connections.get(socket);
    if (responses !== undefined) return responses;
    responses = new Set();
    this.#connections.set(socket, responses);
    socket.once("close", () => {
      this.#connections.delete(socket);
      if (this.#connections.size === 0) this.#whenEmpty?.();
    });
    return responses;
  };

  readonly #onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const socket = request.socket;
    // The client wrote this request before it read our 503: that 503 is its answer.
    if (this.#draining && this.#saidGoodbye.has(socket)) return;
    const responses = this.#track(socket);
    responses.add(response);
    response.once("close", () => {
      responses.delete(response);
      if (this.#draining && responses.size === 0) this.#afterLastResponse(socket);
    });
    // Not draining: the app's listeners, which run after this one, answer it.
    if (!this.#draining) return;
    if (this.#listening) this.#held.push(response);
    else this.#refuse(response);
  };

  #refuse(response: ServerResponse): void {
    this.#refused++;
    const { headers, body } = this.#refusal;
    response.writeHead(503, headers).end(body);
  }

  /**
   * A connection whose responses are done: Node ends it after a `Connection: close`; any other
   * is idle now, and closed, unless the listening socket is still open (then the drain closes it
   * right after that socket: a client must not reconnect into the backlog).
   */
  #afterLastResponse(socket: Socket): void {
    if (this.#listening || socket.destroyed || socket.writableEnded) return;
    this.#sayGoodbye(socket);
  }

  #sayGoodbye(socket: Socket): void {
    if (this.#saidGoodbye.has(socket) || socket.destroyed || socket.writableEnded) return;
    this.#saidGoodbye.add(socket);
    this.#idleClosed++;
    socket.end(rawResponse(this.#refusal));
  }
}

/** The refusal as the bytes of one HTTP/1.1 response. */
function rawResponse({ headers, body }: RefusalResponse): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 503 Service Unavailable\r\n${lines.join("\r\n")}\r\n\r\n${body}`;
}

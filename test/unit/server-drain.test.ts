import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ServerDrain } from "../../src/lifecycle/server-drain.ts";

const body = '{"error":"DATABASE_UNAVAILABLE","reason":"shutting-down","retryAfterSeconds":1}';
const refusal = {
  headers: { Connection: "close", "Retry-After": "1", "Content-Length": String(body.length) },
  body,
};

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

/**
 * A drained server whose app answers `/` at once, holds `/hang` for ever, and with `holding`
 * holds every request until `finish()`; `seen` is what reached the app.
 */
async function startServer({ holding = false } = {}) {
  const seen: string[] = [];
  const pending: Array<() => void> = [];
  const server = createServer((request, response) => {
    seen.push(request.url ?? "");
    if (holding) pending.push(() => response.end("done"));
    else if (request.url !== "/hang") response.end("ok");
  });
  servers.push(server);
  const drain = new ServerDrain(server, refusal);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const finish = () => {
    for (const end of pending.splice(0)) end();
  };
  return { server, drain, port: (server.address() as AddressInfo).port, seen, finish };
}

/** A server as above and a keep-alive connection to it that has had one answer (`/`). */
async function afterOneRequest() {
  const started = await startServer();
  const client = new RawClient(started.port);
  client.send("/");
  await client.responses(1);
  return { ...started, client };
}

/** A raw HTTP/1.1 client connection: what it writes and everything it reads, until the server closes. */
class RawClient {
  readonly socket: Socket;
  received = "";
  readonly closed: Promise<void>;
  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.setEncoding("utf8").on("data", (chunk: string) => {
      this.received += chunk;
    });
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) => this.socket.once("close", () => resolve()));
  }
  send(path: string): void {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
  }
  async responses(count: number): Promise<string[]> {
    await expect
      .poll(() => this.received.split("HTTP/1.1 ").length - 1, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(count);
    return this.received.split("HTTP/1.1 ").slice(1);
  }
}

/** A holding server (above) and a connection whose request `/slow` the app is answering. */
async function withOneInFlight() {
  const started = await startServer({ holding: true });
  const client = new RawClient(started.port);
  client.send("/slow");
  await expect.poll(() => started.seen.length).toBe(1);
  return { ...started, client };
}

describe("ServerDrain (real sockets, no database)", () => {
  it("closes an idle keep-alive connection at once with an unasked 503; a request written after it never reaches the app", async () => {
    const { server, drain, seen, client } = await afterOneRequest();
    const report = drain.drain(performance.now() + 5_000);
    const [, goodbye] = await client.responses(2);
    expect(goodbye).toMatch(/^503 Service Unavailable\r\n/);
    expect(goodbye).toContain("Connection: close");
    expect(goodbye?.endsWith(body)).toBe(true);
    // A client whose request crossed the goodbye reads it as the answer; the request is dropped.
    client.send("/crossed");
    client.socket.end();
    await client.closed;
    expect(await report).toEqual({ inFlight: 0, idleClosed: 1, refused: 0, destroyed: 0 });
    expect(client.received.split("HTTP/1.1 ")).toHaveLength(3);
    expect(seen).toEqual(["/"]);
    expect(server.listening).toBe(false);
  });

  it("a request that arrives as the drain begins gets a 503 and never reaches the app", async () => {
    const { drain, seen, client } = await afterOneRequest();
    const report = drain.drain(performance.now() + 5_000);
    client.send("/late");
    await client.closed;
    expect(await report).toMatchObject({ inFlight: 0, destroyed: 0 });
    const [first, second, third] = client.received.split("HTTP/1.1 ").slice(1);
    expect(first).toMatch(/^200 OK/);
    // Refused while the listening socket was still open, or crossed by the goodbye: one 503 either way.
    expect(second).toMatch(/^503 /);
    expect(third).toBeUndefined();
    expect(seen).toEqual(["/"]);
  });

  it("answers a request in flight with Connection: close, then the connection ends", async () => {
    const { drain, finish, client } = await withOneInFlight();

    const report = drain.drain(performance.now() + 5_000);
    // Past the turns that keep the listening socket open: the response now carries Connection: close.
    await expect.poll(() => drain.server.listening).toBe(false);
    finish();
    await client.closed;
    expect(await report).toEqual({ inFlight: 1, idleClosed: 0, refused: 0, destroyed: 0 });
    const [only, more] = client.received.split("HTTP/1.1 ").slice(1);
    expect(only).toMatch(/^200 OK/);
    expect(only?.toLowerCase()).toContain("connection: close");
    expect(more).toBeUndefined();
  });

  it("a request pipelined behind one in flight gets a 503 after its answer, which keeps the connection until then", async () => {
    const { drain, seen, finish, client } = await withOneInFlight();

    const report = drain.drain(performance.now() + 5_000);
    client.send("/pipelined");
    await expect.poll(() => drain.server.listening).toBe(false);
    finish();
    await client.closed;
    expect(await report).toEqual({ inFlight: 1, idleClosed: 0, refused: 1, destroyed: 0 });
    const [first, second] = client.received.split("HTTP/1.1 ").slice(1);
    expect(first).toMatch(/^200 OK/);
    expect(second).toMatch(/^503 /);
    expect(second).toContain("Connection: close");
    expect(seen).toEqual(["/slow"]);
  });

  it("accepts what waits in the listen backlog before it closes the listening socket: a 503 each, no reset", async () => {
    const { drain, port, seen } = await startServer();
    const clients = Array.from({ length: 10 }, () => new RawClient(port));
    for (const client of clients) client.send("/");
    // The event loop is held up while the kernel completes the ten handshakes: they wait in the
    // backlog, and the loop accepts one connection per turn. Closing at once reset all but one.
    const until = Date.now() + 100;
    while (Date.now() < until) {}
    const report = drain.drain(performance.now() + 5_000);
    await Promise.all(clients.map((client) => client.closed));
    expect((await report).refused).toBe(10);
    for (const client of clients) expect(client.received).toMatch(/^HTTP\/1\.1 503 /);
    expect(seen).toEqual([]);
  });

  it("destroys what is still open at the deadline", async () => {
    const { drain, port, seen } = await startServer();
    const client = new RawClient(port);
    client.send("/hang");
    await expect.poll(() => seen).toContain("/hang");

    const started = performance.now();
    const report = await drain.drain(started + 300);
    expect(report).toEqual({ inFlight: 1, idleClosed: 0, refused: 0, destroyed: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await client.closed;
    expect(client.received).toBe("");
  });

  it("a new connection after the drain began is refused", async () => {
    const { drain, port } = await startServer();
    await drain.drain(performance.now() + 1_000);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) =>
      connect(port, "127.0.0.1").once("error", resolve),
    );
    expect(error.code).toBe("ECONNREFUSED");
  });
});

import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ServerDrain } from "../../src/lifecycle/server-drain.ts";

const body = '{"error":"DATABASE_UNAVAILABLE","reason":"shutting-down","retryAfterSeconds":1}';
const refusal = {
  headers: { Connection: "close", "Retry-After": "1", "Content-Length": String(body.length) },
  body,
};

/** A server whose handler answers `/` at once and holds `/hang` for ever; it counts what reached the app. */
async function startServer(): Promise<{ server: Server; drain: ServerDrain; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(request.url ?? "");
    if (request.url !== "/hang") response.end("ok");
  });
  const drain = new ServerDrain(server, refusal);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, drain, port: (server.address() as AddressInfo).port, seen };
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

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

describe("ServerDrain (real sockets, no database)", () => {
  it("closes an idle keep-alive connection at once with an unasked 503; a request written after it never reaches the app", async () => {
    const { server, drain, port, seen } = await startServer();
    servers.push(server);
    const client = new RawClient(port);
    client.send("/");
    await client.responses(1);

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
    const { server, drain, port, seen } = await startServer();
    servers.push(server);
    const client = new RawClient(port);
    client.send("/");
    await client.responses(1);

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

  /** A server whose app holds every request until the test calls `finish()`. */
  async function startHoldingServer() {
    const seen: string[] = [];
    const pending: Array<() => void> = [];
    const server = createServer((request, response) => {
      seen.push(request.url ?? "");
      pending.push(() => response.end("done"));
    });
    servers.push(server);
    const drain = new ServerDrain(server, refusal);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const finish = () => {
      for (const end of pending.splice(0)) end();
    };
    return { drain, port: (server.address() as AddressInfo).port, seen, finish };
  }

  it("answers a request in flight with Connection: close, then the connection ends", async () => {
    const { drain, port, seen, finish } = await startHoldingServer();
    const client = new RawClient(port);
    client.send("/slow");
    await expect.poll(() => seen.length).toBe(1);

    const report = drain.drain(performance.now() + 5_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    finish();
    await client.closed;
    expect(await report).toEqual({ inFlight: 1, idleClosed: 0, refused: 0, destroyed: 0 });
    const [only, more] = client.received.split("HTTP/1.1 ").slice(1);
    expect(only).toMatch(/^200 OK/);
    expect(only?.toLowerCase()).toContain("connection: close");
    expect(more).toBeUndefined();
  });

  it("a request pipelined behind one in flight gets a 503 after its answer, which keeps the connection until then", async () => {
    const { drain, port, seen, finish } = await startHoldingServer();
    const client = new RawClient(port);
    client.send("/slow");
    await expect.poll(() => seen.length).toBe(1);

    const report = drain.drain(performance.now() + 5_000);
    client.send("/pipelined");
    await new Promise((resolve) => setTimeout(resolve, 50));
    finish();
    await client.closed;
    expect(await report).toEqual({ inFlight: 1, idleClosed: 0, refused: 1, destroyed: 0 });
    const [first, second] = client.received.split("HTTP/1.1 ").slice(1);
    expect(first).toMatch(/^200 OK/);
    expect(second).toMatch(/^503 /);
    expect(second).toContain("Connection: close");
    expect(seen).toEqual(["/slow"]);
  });

  it("destroys what is still open at the deadline", async () => {
    const { server, drain, port } = await startServer();
    servers.push(server);
    const client = new RawClient(port);
    client.send("/hang");
    await expect.poll(() => drain.server.listening).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = performance.now();
    const report = await drain.drain(started + 300);
    expect(report).toEqual({ inFlight: 1, idleClosed: 0, refused: 0, destroyed: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await client.closed;
    expect(client.received).toBe("");
  });

  it("a new connection after the drain began is refused", async () => {
    const { server, drain, port } = await startServer();
    servers.push(server);
    await drain.drain(performance.now() + 1_000);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) =>
      connect(port, "127.0.0.1").once("error", resolve),
    );
    expect(error.code).toBe("ECONNREFUSED");
  });
});

import net from "node:net";

interface Pair {
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  /** For a connection held since it was accepted: stops keeping its bytes and hands them over. */
  release?: (() => Buffer[]) | undefined;
}

/**
 * A TCP proxy in front of a database node that can black-hole traffic: it stops forwarding in
 * both directions without closing anything, as a dead switch or a firewall that drops packets
 * would. New connections are accepted and never reach the server. `restore()` forwards again.
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<Pair>();
  #targetPort: number;
  #blackHoled = false;
  #holdingNew = false;
  port = 0;
  /** Connections accepted so far (each a TCP connect of a client, black-holed or not). */
  connections = 0;
  /** Connections their client closed before they were ever forwarded (it gave up on them). */
  abandoned = 0;

  constructor(targetPort: number) {
    this.#targetPort = targetPort;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  blackHole(): void {
    this.#blackHoled = true;
    for (const pair of this.#pairs) {
      pair.client.unpipe();
      pair.upstream?.unpipe();
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  /**
   * New connections are accepted and go nowhere; open ones keep flowing (a firewall rule that
   * drops new flows, a server whose listen queue is stuck). A cancel request, which travels on a
   * new connection, then never arrives. `restore()` forwards them.
   */
  holdNewConnections(): void {
    this.#holdingNew = true;
  }

  /**
   * New connections go to `port` from now on; open ones stay where they were, as with a DNS name
   * (an RDS/Aurora cluster endpoint) that now resolves to another server.
   */
  repoint(port: number): void {
    this.#targetPort = port;
  }

  restore(): void {
    this.#blackHoled = false;
    this.#holdingNew = false;
    for (const pair of this.#pairs) this.#forward(pair);
  }

  /** Closes every connection and the listening socket. */
  close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.#pairs.clear();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.connections += 1;
    const pair: Pair = { client, upstream: undefined };
    this.#pairs.add(pair);
    client.on("error", () => {});
    client.on("close", () => {
      if (pair.upstream === undefined) this.abandoned += 1;
      pair.upstream?.destroy();
      this.#pairs.delete(pair);
    });
    if (!this.#blackHoled && !this.#holdingNew) {
      client.pause();
      this.#forward(pair);
      return;
    }
    // Held: what the client sends is kept for the server, and its goodbye is seen (a paused
    // socket would never read its end).
    const held: Buffer[] = [];
    const keep = (chunk: Buffer) => held.push(chunk);
    client.on("data", keep);
    pair.release = () => {
      client.off("data", keep);
      client.pause();
      return held;
    };
  }

  #forward(pair: Pair): void {
    const held = pair.release?.() ?? [];
    pair.release = undefined;
    if (pair.upstream === undefined) {
      const upstream = net.connect(this.#targetPort, "127.0.0.1");
      upstream.on("error", () => pair.client.destroy());
      upstream.on("close", () => pair.client.destroy());
      pair.upstream = upstream;
      for (const chunk of held) upstream.write(chunk);
    }
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
    pair.client.resume();
    pair.upstream.resume();
  }
}

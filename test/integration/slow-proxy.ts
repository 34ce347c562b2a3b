import net from "node:net";

/** How a SlowProxy holds back what the server sends. */
export interface Slowness {
  /** ms added to every chunk the server sends (a replica that is always a bit slower). */
  readonly delayMs?: number;
  /** Share of the server's chunks (≈ of answers) held back for `stallMs` instead (a noisy neighbour). */
  readonly stallRatio?: number;
  readonly stallMs?: number;
  /** Source of randomness for the stalls. */
  readonly random?: () => number;
}

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Chunks held back, in order, each with when it goes out (never before the one ahead of it). */
  readonly held: Array<{ readonly at: number; readonly chunk: Buffer }>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A TCP proxy in front of a database node that makes it slow, not dead: each chunk the server
 * sends reaches the client `delayMs` later, and a share of them `stallMs` later; order is kept.
 * What the client sends goes through at once. `set()` changes the slowness for what comes next.
 */
export class SlowProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<Pair>();
  readonly #targetPort: number;
  #slowness: Required<Slowness>;
  port = 0;
  /** Chunks held back for `stallMs` so far. */
  stalls = 0;

  constructor(targetPort: number, slowness: Slowness = {}) {
    this.#targetPort = targetPort;
    this.#slowness = withDefaults(slowness);
    this.#server = net.createServer((client) => this.#accept(client));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  set(slowness: Slowness): void {
    this.#slowness = withDefaults(slowness);
  }

  /** `url` with its host and port replaced by this proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = "127.0.0.1";
    parsed.port = String(this.port);
    return parsed.toString();
  }

  close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    client.setNoDelay(true);
    const upstream = net.connect(this.#targetPort, "127.0.0.1");
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream, held: [], timer: undefined };
    this.#pairs.add(pair);
    const drop = () => {
      clearTimeout(pair.timer);
      client.destroy();
      upstream.destroy();
      this.#pairs.delete(pair);
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => this.#send(pair, chunk));
  }

  #send(pair: Pair, chunk: Buffer): void {
    const { delayMs, stallRatio, stallMs, random } = this.#slowness;
    const stalled = stallRatio > 0 && random() < stallRatio;
    if (stalled) this.stalls++;
    const hold = stalled ? stallMs : delayMs;
    const now = performance.now();
    if (hold <= 0 && pair.held.length === 0) {
      pair.client.write(chunk);
      return;
    }
    const last = pair.held[pair.held.length - 1];
    pair.held.push({ at: Math.max(now + hold, last?.at ?? 0), chunk });
    if (pair.timer === undefined) this.#schedule(pair);
  }

  #schedule(pair: Pair): void {
    const next = pair.held[0];
    if (next === undefined) {
      pair.timer = undefined;
      return;
    }
    pair.timer = setTimeout(
      () => {
        const now = performance.now();
        while (pair.held.length > 0 && (pair.held[0]?.at ?? 0) <= now + 0.5) {
          const { chunk } = pair.held.shift() as { chunk: Buffer };
          if (!pair.client.destroyed) pair.client.write(chunk);
        }
        this.#schedule(pair);
      },
      Math.max(0, next.at - performance.now()),
    );
  }
}

function withDefaults(slowness: Slowness): Required<Slowness> {
  return {
    delayMs: slowness.delayMs ?? 0,
    stallRatio: slowness.stallRatio ?? 0,
    stallMs: slowness.stallMs ?? 0,
    random: slowness.random ?? Math.random,
  };
}

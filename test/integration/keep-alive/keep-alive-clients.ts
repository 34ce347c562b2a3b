import http from "node:http";

/** One request as a keep-alive client saw it. */
export interface ClientRequestRecord {
  /** When its last byte was handed to the kernel (`performance.now()`); undefined if it never was. */
  readonly writtenAt: number | undefined;
  /** Whether it went out on a connection an earlier request had used. */
  readonly reused: boolean;
  /** The HTTP status, or undefined when it failed. */
  readonly status: number | undefined;
  /** The error code when it failed (`ECONNREFUSED`, `ECONNRESET`, ...). */
  readonly error: string | undefined;
}

export interface KeepAliveLoadOptions {
  readonly baseUrl: string;
  readonly clients: number;
  /** The request client `i` sends on its `n`-th round. */
  readonly request: (client: number, round: number) => { method: string; path: string; body?: unknown };
}

/**
 * `clients` HTTP/1.1 clients, each with its own keep-alive connection (Node's agent, one socket
 * each), sending one request after another until `stop()`. A refused connection is retried
 * after 25 ms, as a client would that waits for the server to come back.
 */
export class KeepAliveLoad {
  readonly records: ClientRequestRecord[] = [];
  readonly #options: KeepAliveLoadOptions;
  readonly #agents: http.Agent[];
  readonly #loops: Promise<void>[];
  #stopped = false;

  constructor(options: KeepAliveLoadOptions) {
    this.#options = options;
    this.#agents = Array.from({ length: options.clients }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    this.#loops = this.#agents.map((agent, client) => this.#loop(agent, client));
  }

  /** Stops every loop after its request in progress; resolves when all have stopped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    for (const agent of this.#agents) agent.destroy();
  }

  async #loop(agent: http.Agent, client: number): Promise<void> {
    for (let round = 0; !this.#stopped; round++) {
      const record = await this.#send(agent, this.#options.request(client, round));
      this.records.push(record);
      if (record.error !== undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  #send(agent: http.Agent, { method, path, body }: { method: string; path: string; body?: unknown }) {
    return new Promise<ClientRequestRecord>((resolve) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      let writtenAt: number | undefined;
      const request = http.request(`${this.#options.baseUrl}${path}`, {
        method,
        agent,
        headers: payload === undefined ? {} : { "content-type": "application/json" },
      });
      request.once("finish", () => {
        writtenAt = performance.now();
      });
      request.once("response", (response) => {
        response.resume();
        response.once("end", () =>
          resolve({ writtenAt, reused: request.reusedSocket, status: response.statusCode, error: undefined }),
        );
        response.once("error", (error: NodeJS.ErrnoException) =>
          resolve({ writtenAt, reused: request.reusedSocket, status: undefined, error: error.code ?? error.message }),
        );
      });
      request.once("error", (error: NodeJS.ErrnoException) =>
        resolve({ writtenAt, reused: request.reusedSocket, status: undefined, error: error.code ?? error.message }),
      );
      request.end(payload);
    });
  }
}

import { setTimeout as sleep } from "node:timers/promises";

/** One HTTP request of the load and how it went. */
export interface Sample {
  readonly kind: "read" | "write";
  /** The phase it started in. */
  readonly phase: string;
  /** HTTP status; 0 when no answer came (connection refused or reset, timeout). */
  readonly status: number;
  /** The app's `x-served-by` header: the nodes that answered the request's queries. */
  readonly servedBy: string | undefined;
  readonly retryAfter: string | undefined;
  /** `reason` of a 503's JSON body (`breaker-open`, `shutting-down`, ...). */
  readonly reason: string | undefined;
  /** Round trip in ms, measured by the client. */
  readonly ms: number;
  /** performance.now() when it was sent. */
  readonly startedAt: number;
}

export interface LoadOptions {
  readonly baseUrl: string;
  /** Concurrent clients, each sending one request at a time. */
  readonly workers: number;
  /** Share of reads, 0..1. */
  readonly readShare: number;
  /** Pause of each worker between two requests, in ms. */
  readonly pauseMs: number;
  /** Users that exist on every node: the reads ask for them, new posts go to them. */
  readonly userIds: readonly number[];
  /** A worker stops at its first request that got no answer (the server has closed). */
  readonly stopWhenRefused?: boolean;
}

let unique = 0;

/**
 * A mixed load over HTTP on the example API, from a few concurrent workers, until `stop()`:
 * reads (a user, the latest users, a user's posts) and writes (a new user, a new post).
 * Every request is recorded with the phase it started in.
 */
export class Load {
  readonly samples: Sample[] = [];
  #phase: string;
  #stopped = false;
  #inFlight = 0;
  readonly #pending = new Map<string, Set<Promise<Sample>>>();
  readonly #options: LoadOptions;
  readonly #workers: Promise<void>[];

  constructor(options: LoadOptions, phase: string) {
    this.#options = options;
    this.#phase = phase;
    this.#workers = Array.from({ length: options.workers }, () => this.#work());
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests sent from now on belong to `phase`. */
  set phase(phase: string) {
    this.#phase = phase;
  }

  of(phase: string): Sample[] {
    return this.samples.filter((sample) => sample.phase === phase);
  }

  /** Resolves when every request sent in `phase` has been answered (or given up on). */
  async settled(phase: string): Promise<void> {
    await Promise.all(this.#pending.get(phase) ?? []);
  }

  /** Lets every worker finish its current request, then resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#workers);
  }

  /** Resolves when every worker has stopped by itself (`stopWhenRefused`). */
  async finished(): Promise<void> {
    await Promise.all(this.#workers);
  }

  async #work(): Promise<void> {
    const { readShare, pauseMs, stopWhenRefused } = this.#options;
    while (!this.#stopped) {
      const phase = this.#phase;
      const sending = this.#send(phase, Math.random() < readShare ? "read" : "write");
      let pending = this.#pending.get(phase);
      if (pending === undefined) {
        pending = new Set();
        this.#pending.set(phase, pending);
      }
      pending.add(sending);
      const sample = await sending;
      pending.delete(sending);
      this.samples.push(sample);
      if (sample.status === 0 && stopWhenRefused) return;
      await sleep(pauseMs);
    }
  }

  async #send(phase: string, kind: "read" | "write"): Promise<Sample> {
    const { baseUrl, userIds } = this.#options;
    const userId = userIds[Math.floor(Math.random() * userIds.length)];
    const choice = Math.random();
    const [method, route, body] =
      kind === "read"
        ? choice < 0.5
          ? ["GET", `/users/${userId}`, undefined]
          : choice < 0.75
            ? ["GET", "/users?limit=10", undefined]
            : ["GET", `/users/${userId}/posts`, undefined]
        : choice < 0.5
          ? ["POST", "/users", { email: `load-${process.pid}-${++unique}@example.test`, name: "Load" }]
          : ["POST", `/users/${userId}/posts`, { title: `post ${++unique}`, body: "hello" }];
    const startedAt = performance.now();
    this.#inFlight += 1;
    try {
      const response = await fetch(`${baseUrl}${route}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      return {
        kind,
        phase,
        status: response.status,
        servedBy: response.headers.get("x-served-by") ?? undefined,
        retryAfter: response.headers.get("retry-after") ?? undefined,
        reason: response.status === 503 ? reasonOf(text) : undefined,
        ms: performance.now() - startedAt,
        startedAt,
      };
    } catch {
      return {
        kind,
        phase,
        status: 0,
        servedBy: undefined,
        retryAfter: undefined,
        reason: undefined,
        ms: performance.now() - startedAt,
        startedAt,
      };
    } finally {
      this.#inFlight -= 1;
    }
  }
}

function reasonOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { reason?: string }).reason;
  } catch {
    return undefined;
  }
}

/** True for an answer the API meant: 2xx. */
export function isOk(sample: Sample): boolean {
  return sample.status >= 200 && sample.status < 300;
}

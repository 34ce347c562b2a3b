import type { ContainerRuntimeClient, StartedTestContainer } from "testcontainers";
import { waitUntilAcceptingQueries } from "../replication.js";
import { queryOnce } from "../sql.js";
import type { DevNode, NodeRole, StopMode } from "../types.js";

type DockerContainer = ReturnType<ContainerRuntimeClient["container"]["getById"]>;

const startTimeoutMs = 60_000;
/** How long `docker stop` waits for a fast shutdown before it sends SIGKILL. */
const fastStopTimeoutMs = 60_000;

function isNotRunningConflict(error: unknown): boolean {
  // Docker answers 409 to a kill of a container that is not running: it is down already.
  return (error as { statusCode?: unknown } | null)?.statusCode === 409;
}

export interface ContainerNodeOptions {
  name: string;
  role: NodeRole;
  /** The fixed host port bound to the container's 5432, so the URL survives stop/start. */
  port: number;
  url: string;
  started: StartedTestContainer;
  client: ContainerRuntimeClient;
}

/**
 * One PostgreSQL server in a container. Stops and starts go through the Docker API directly:
 * testcontainers' own stop() removes the container, and its restart() may remap ports.
 */
export class ContainerNode implements DevNode {
  readonly name: string;
  role: NodeRole;
  readonly port: number;
  readonly url: string;
  readonly containerId: string;
  private readonly client: ContainerRuntimeClient;
  private readonly docker: DockerContainer;
  private running = true;

  constructor(options: ContainerNodeOptions) {
    this.name = options.name;
    this.role = options.role;
    this.port = options.port;
    this.url = options.url;
    this.containerId = options.started.getId();
    this.client = options.client;
    this.docker = options.client.container.getById(this.containerId);
  }

  isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.client.container.start(this.docker);
    this.running = true;
    await waitUntilAcceptingQueries(this, startTimeoutMs);
  }

  /** "fast": `docker stop`, i.e. the image's STOPSIGNAL, SIGINT = PostgreSQL's fast shutdown. "immediate": SIGQUIT. */
  async stop(mode: StopMode = "fast"): Promise<void> {
    if (!this.running) return;
    if (mode === "fast") await this.client.container.stop(this.docker, { timeout: fastStopTimeoutMs });
    else await this.signalAndWait("SIGQUIT");
    this.running = false;
  }

  /** `docker kill`: SIGKILL to the postmaster, which is the container's main process. */
  async kill(): Promise<void> {
    if (!this.running) return;
    await this.signalAndWait("SIGKILL");
    this.running = false;
  }

  async restart(mode: StopMode = "fast"): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<Row[]> {
    return queryOnce<Row>(this.url, sql, params);
  }

  private async signalAndWait(signal: "SIGQUIT" | "SIGKILL"): Promise<void> {
    try {
      await this.docker.kill({ signal });
    } catch (error) {
      if (!isNotRunningConflict(error)) throw error;
    }
    // Returns once the container has exited (at once if it already had).
    await this.docker.wait();
  }
}

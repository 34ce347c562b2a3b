import { loadDriver } from "./driver.js";

/**
 * The only place prisma-split reaches into `pg` beyond its documented API. pg has no public way to
 * cut a client's socket without the goodbye `end()` waits for, to unref it (a monitor connection
 * must never keep the process alive), or to send a CancelRequest for another client's backend;
 * these reach `client.connection.stream` and `pg.Connection`, which pg has kept stable across 8.x.
 * test/integration/pg-internals.test.ts breaks when pg changes them.
 */

type WithStream = { connection?: { stream?: { destroy?: () => void; unref?: () => void } } };

/** Closes a client's socket at once: the last resort when the server does not answer. */
export function destroySocket(client: object): void {
  (client as WithStream).connection?.stream?.destroy?.();
}

/** Lets the process exit while this client's socket is open (call again after TLS, which replaces it). */
export function unrefSocket(client: object): void {
  (client as WithStream).connection?.stream?.unref?.();
}

/** A bare protocol connection, for a CancelRequest: a new connection that names the backend by pid and key. */
export interface CancelConnection {
  connect(port: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
  on(event: "connect" | "end" | "error", listener: (...args: unknown[]) => void): unknown;
  readonly stream: { destroy(): void };
}

/** pg's own protocol connection class (`pg.Connection`), as CancelRequests need it. */
export function newCancelConnection(): CancelConnection {
  const { pg } = loadDriver();
  const Connection = (pg as unknown as { Connection: new () => CancelConnection }).Connection;
  return new Connection();
}

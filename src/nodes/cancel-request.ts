import type { BusyConnection } from "./busy-connections.js";
import { loadDriver } from "./driver.js";

interface CancelConnection {
  connect(port: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
  on(event: "connect" | "end" | "error", listener: (...args: unknown[]) => void): unknown;
  stream: { destroy(): void };
}

/**
 * Asks the server to cancel whatever `client` is running, the way psql's Ctrl-C does: a
 * CancelRequest on a new connection, naming the backend by pid and secret key. It needs no
 * privilege and passes PgBouncer. Resolves (never rejects) when the server has taken the request
 * or after `timeoutMs`; false when it could not be sent.
 */
export function sendCancelRequest(client: BusyConnection, timeoutMs: number): Promise<boolean> {
  const { processID, secretKey } = client;
  if (typeof processID !== "number" || typeof secretKey !== "number") return Promise.resolve(false);
  const { pg } = loadDriver();
  const Connection = (pg as unknown as { Connection: new () => CancelConnection }).Connection;
  return new Promise((resolve) => {
    const connection = new Connection();
    let sent = false;
    const finish = () => {
      clearTimeout(timer);
      connection.stream.destroy();
      resolve(sent);
    };
    const timer = setTimeout(finish, timeoutMs);
    timer.unref();
    connection.on("connect", () => {
      connection.cancel(processID, secretKey);
      sent = true;
    });
    // The server closes the connection once it has read the request.
    connection.on("end", finish);
    connection.on("error", finish);
    if (client.host.startsWith("/")) connection.connect(`${client.host}/.s.PGSQL.${client.port}`);
    else connection.connect(client.port, client.host);
  });
}

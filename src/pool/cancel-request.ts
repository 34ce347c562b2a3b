import type { BusyConnection } from "./busy-connections.js";
import { newCancelConnection } from "./pg-internals.js";

/**
 * What became of a cancel request: `unsent` (no connection to the server, or no backend key:
 * nothing will ever arrive), `confirmed` (the server read it and closed the connection), or
 * `unconfirmed` (written, but no goodbye came within the timeout: it may still arrive and cancel
 * whatever the connection runs next).
 */
export type CancelOutcome = "unsent" | "confirmed" | "unconfirmed";

/**
 * Asks the server to cancel whatever `client` is running, the way psql's Ctrl-C does: a
 * CancelRequest on a new connection, naming the backend by pid and secret key. It needs no
 * privilege and passes PgBouncer. Resolves (never rejects) when the server has taken the request
 * or after `timeoutMs`.
 */
export function sendCancelRequest(client: BusyConnection, timeoutMs: number): Promise<CancelOutcome> {
  const { processID, secretKey } = client;
  if (typeof processID !== "number" || typeof secretKey !== "number") return Promise.resolve("unsent");
  return new Promise((resolve) => {
    const connection = newCancelConnection();
    let sent = false;
    const finish = (confirmed: boolean) => {
      clearTimeout(timer);
      connection.stream.destroy();
      resolve(!sent ? "unsent" : confirmed ? "confirmed" : "unconfirmed");
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    timer.unref();
    connection.on("connect", () => {
      connection.cancel(processID, secretKey);
      sent = true;
    });
    // The server closes the connection once it has read the request.
    connection.on("end", () => finish(true));
    connection.on("error", () => finish(false));
    if (client.host.startsWith("/")) connection.connect(`${client.host}/.s.PGSQL.${client.port}`);
    else connection.connect(client.port, client.host);
  });
}

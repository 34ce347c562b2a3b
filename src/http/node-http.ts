import type { ServerResponse } from "node:http";
import { unavailableResponse } from "./unavailable-response.js";

/**
 * For plain `node:http` servers (and frameworks built on them): answers a
 * `DatabaseUnavailableError` with 503, `Retry-After` and a small JSON body and returns true;
 * returns false and writes nothing for any other error, which stays the caller's to handle.
 *
 * @example
 * http.createServer(async (req, res) => {
 *   try { res.end(JSON.stringify(await db.user.findMany())) }
 *   catch (error) { if (!sendDatabaseUnavailable(res, error)) { res.statusCode = 500; res.end() } }
 * });
 */
export function sendDatabaseUnavailable(response: ServerResponse, error: unknown): boolean {
  const answer = unavailableResponse(error);
  if (answer === undefined || response.headersSent) return false;
  const body = JSON.stringify(answer.body);
  response.writeHead(answer.status, { ...answer.headers, "Content-Length": Buffer.byteLength(body) });
  response.end(body);
  return true;
}

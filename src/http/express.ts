import { unavailableResponse } from "./unavailable-response.js";

/** The parts of Express's request/response this middleware uses (no dependency on express's types). */
interface ExpressResponse {
  headersSent: boolean;
  status(code: number): ExpressResponse;
  set(field: Record<string, string>): ExpressResponse;
  json(body: unknown): unknown;
}

/**
 * Express error middleware: a `DatabaseUnavailableError` becomes 503 with `Retry-After` and a
 * small JSON body; every other error goes on to the next error handler untouched. Register it
 * after your routes (Express 5 forwards rejected async handlers to it).
 *
 * @example
 * import { databaseUnavailableMiddleware } from "prisma-split";
 * app.get("/users", async (req, res) => res.json(await db.user.findMany()));
 * app.use(databaseUnavailableMiddleware());
 */
export function databaseUnavailableMiddleware() {
  return function databaseUnavailable(
    error: unknown,
    _request: unknown,
    response: ExpressResponse,
    next: (error?: unknown) => void,
  ): void {
    const answer = unavailableResponse(error);
    if (answer === undefined || response.headersSent) {
      next(error);
      return;
    }
    response.status(answer.status).set(answer.headers).json(answer.body);
  };
}

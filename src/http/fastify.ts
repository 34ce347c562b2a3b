import { unavailableResponse } from "./unavailable-response.js";

/** The parts of Fastify's reply this handler uses (no dependency on fastify's types). */
interface FastifyReply {
  code(status: number): FastifyReply;
  headers(values: Record<string, string>): FastifyReply;
  send(payload: unknown): unknown;
}

/**
 * A Fastify error handler: a `DatabaseUnavailableError` becomes 503 with `Retry-After` and a
 * small JSON body; any other error is rethrown untouched, which hands it to the parent (or
 * Fastify's default) error handler.
 *
 * @example
 * import { databaseUnavailableErrorHandler } from "prisma-split";
 * fastify.setErrorHandler(databaseUnavailableErrorHandler());
 */
export function databaseUnavailableErrorHandler() {
  return function databaseUnavailable(error: unknown, _request: unknown, reply: FastifyReply): unknown {
    const answer = unavailableResponse(error);
    if (answer === undefined) throw error;
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  };
}

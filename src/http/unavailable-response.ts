import { type DatabaseUnavailableError, isDatabaseUnavailable } from "../errors.js";

/** What every handler answers for a `DatabaseUnavailableError`: 503, `Retry-After`, a small JSON body. */
export interface UnavailableResponse {
  readonly status: 503;
  readonly headers: { readonly "Retry-After": string; readonly "Content-Type": "application/json; charset=utf-8" };
  readonly body: UnavailableBody;
}

/** The JSON body: no message, no cause, no host: nothing about the infrastructure leaks to clients. */
export interface UnavailableBody {
  readonly error: "DATABASE_UNAVAILABLE";
  readonly reason: DatabaseUnavailableError["reason"];
  /** Whether the request's writes may have taken effect: a client deciding to resend needs it. */
  readonly outcome: DatabaseUnavailableError["outcome"];
  readonly retryAfterSeconds: number;
}

/**
 * The response for `error` when it is a `DatabaseUnavailableError`, else undefined (the caller
 * passes the error on untouched).
 *
 * @example
 * const response = unavailableResponse(error);
 * if (response) return new Response(JSON.stringify(response.body), response);
 */
export function unavailableResponse(error: unknown): UnavailableResponse | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  return {
    status: 503,
    headers: { "Retry-After": String(error.retryAfterSeconds), "Content-Type": "application/json; charset=utf-8" },
    body: {
      error: "DATABASE_UNAVAILABLE",
      reason: error.reason,
      outcome: error.outcome,
      retryAfterSeconds: error.retryAfterSeconds,
    },
  };
}

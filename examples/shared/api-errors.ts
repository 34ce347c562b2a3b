/** What the API answers for an error of the request rather than of the database. */
export interface ApiError {
  readonly status: 400 | 404 | 409;
  readonly body: { readonly error: string; readonly message: string };
}

/**
 * Maps Prisma's query errors that the client caused to 4xx answers: a duplicate e-mail (P2002)
 * is 409, a post for a user that does not exist (P2003, foreign key) or a missing row (P2025) is
 * 404. Anything else is undefined and stays a server error. prisma-split passes query errors
 * through unchanged (it never retries them or counts them against a breaker), so the codes are
 * Prisma's own.
 */
export function apiErrorOf(error: unknown): ApiError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "P2002":
      return { status: 409, body: { error: "CONFLICT", message: "a user with this email already exists" } };
    case "P2003":
    case "P2025":
      return { status: 404, body: { error: "NOT_FOUND", message: "no such user" } };
    default:
      return undefined;
  }
}

export const notFound = { error: "NOT_FOUND", message: "no such user" } as const;

import { createHash, timingSafeEqual } from "node:crypto";

/** A request's headers as Node, Express and Fastify give them: lower-case names. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A check of `Authorization: Bearer <token>` against `expected`. Both sides are hashed first, so
 * the comparison takes the same time whatever the length or the first differing character of
 * what was sent (`timingSafeEqual` alone needs equal lengths, and a length check would leak it).
 */
export function bearerTokenCheck(expected: string): (headers: RequestHeaders | undefined) => boolean {
  const expectedDigest = digest(expected);
  return (headers) => {
    const header = headers?.authorization;
    if (typeof header !== "string") return false;
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match === null) return false;
    return timingSafeEqual(digest(match[1] as string), expectedDigest);
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

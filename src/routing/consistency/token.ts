import { ConsistencyTokenError } from "../../errors.js";
import type { Lsn } from "../../nodes/lsn.js";

/** What a consistency token carries from one request (or app instance) to the next. */
export interface ConsistencyPoint {
  /** Wall-clock ms of the latest write. */
  readonly writtenAt: number;
  /** The primary's WAL position after it; absent when unknown ("session" mode, or not read). */
  readonly lsn: Lsn | undefined;
}

/**
 * `v1.<write time, base 36>.<WAL position, hex>`: short, safe in a header and a cookie, and
 * versioned, so a future format is refused with a clear message instead of misread. Opaque to
 * users: only its version prefix is promised. Not signed: a client can only make its own reads
 * go to the primary sooner or longer.
 */
const VERSION = "v1";
const MAX_LENGTH = 64;
const V1_BODY = /^([0-9a-z]{1,11})\.([0-9a-f]{0,16})$/;
/** The latest time a Date can hold. */
const MAX_TIME = 8.64e15;

export function encodeConsistencyToken(point: ConsistencyPoint): string {
  return `${VERSION}.${Math.floor(point.writtenAt).toString(36)}.${point.lsn === undefined ? "" : point.lsn.toString(16)}`;
}

/** Reads a token made by {@link encodeConsistencyToken}; throws ConsistencyTokenError otherwise. */
export function decodeConsistencyToken(token: unknown): ConsistencyPoint {
  if (typeof token !== "string") {
    throw new ConsistencyTokenError(`prisma-split: a consistency token is a string, got ${typeof token}`);
  }
  if (token.length > MAX_LENGTH) {
    throw new ConsistencyTokenError(
      `prisma-split: not a consistency token (${token.length} characters, at most ${MAX_LENGTH})`,
    );
  }
  const dot = token.indexOf(".");
  const version = dot === -1 ? "" : token.slice(0, dot);
  if (!/^v\d+$/.test(version)) {
    throw new ConsistencyTokenError(
      `prisma-split: not a consistency token: ${JSON.stringify(token)} (expected "${VERSION}.…" from db.$consistencyToken())`,
    );
  }
  if (version !== VERSION) {
    throw new ConsistencyTokenError(
      `prisma-split: consistency token version ${version} is not supported by this prisma-split (it reads ${VERSION}); ` +
        "was it made by another version of the app?",
    );
  }
  const body = V1_BODY.exec(token.slice(dot + 1));
  const writtenAt = body === null ? Number.NaN : Number.parseInt(body[1] as string, 36);
  if (body === null || !(writtenAt <= MAX_TIME)) {
    throw new ConsistencyTokenError(`prisma-split: malformed ${VERSION} consistency token: ${JSON.stringify(token)}`);
  }
  const lsnHex = body[2] as string;
  return { writtenAt, lsn: lsnHex === "" ? undefined : BigInt(`0x${lsnHex}`) };
}

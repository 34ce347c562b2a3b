import { ConsistencyTokenError } from "../../errors.js";
import type { Lsn } from "../../nodes/lsn.js";

/** What a consistency token carries from one request (or app instance) to the next. */
export interface ConsistencyPoint {
  /** Wall-clock ms of the latest write; absent when the context only read. */
  readonly writtenAt: number | undefined;
  /** The primary's WAL position after that write; absent when unknown ("session" mode, or not read yet). */
  readonly lsn: Lsn | undefined;
  /** The replica the context reads from (`pinIdOf`): monotonic reads stay there while it is in rotation. */
  readonly pin: string | undefined;
  /** An upper bound of what the context's reads saw: elsewhere than the pin, only a replica past it. */
  readonly floor: Lsn | undefined;
  /** Wall-clock ms: the context read (or wrote) then and the bound is the primary's next position after it. */
  readonly floorAfter: number | undefined;
}

/**
 * `v2` then `.`-separated fields, each a letter and a non-empty value, in this order, each
 * optional but at least one: `t` write time (base 36), `l` its WAL position (hex), `p` pinned
 * replica, `f` floor (hex) or `a` floor-after time (base 36). Short, safe in a header and a
 * cookie, and versioned, so a future format is refused with a clear message instead of misread.
 * `v1.<write time>.<position>` (before monotonic reads) is still read. Opaque to users: only its
 * version prefix is promised. Not signed: a client can only make its own reads go to the primary
 * sooner or longer, or to the replica it names.
 */
const VERSION = "v2";
const MAX_LENGTH = 96;
const V1_BODY = /^([0-9a-z]{1,11})\.([0-9a-f]{1,16})$/;
const V2_BODY =
  /^(?:\.t([0-9a-z]{1,11}))?(?:\.l([0-9a-f]{1,16}))?(?:\.p([0-9a-z]{1,8}))?(?:\.f([0-9a-f]{1,16})|\.a([0-9a-z]{1,11}))?$/;
/** The latest time a Date can hold. */
const MAX_TIME = 8.64e15;

export function encodeConsistencyToken(point: ConsistencyPoint): string {
  let token = VERSION;
  if (point.writtenAt !== undefined) token += `.t${Math.floor(point.writtenAt).toString(36)}`;
  if (point.lsn !== undefined) token += `.l${point.lsn.toString(16)}`;
  if (point.pin !== undefined) token += `.p${point.pin}`;
  if (point.floorAfter !== undefined) token += `.a${Math.floor(point.floorAfter).toString(36)}`;
  else if (point.floor !== undefined) token += `.f${point.floor.toString(16)}`;
  return token;
}

/** Reads a token made by {@link encodeConsistencyToken} (or a v1 one); throws ConsistencyTokenError otherwise. */
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
  const version = dot === -1 ? token : token.slice(0, dot);
  if (!/^v\d+$/.test(version)) {
    throw new ConsistencyTokenError(
      `prisma-split: not a consistency token: ${JSON.stringify(token)} (expected "${VERSION}.…" from db.$consistencyToken())`,
    );
  }
  const point =
    version === "v1"
      ? v1Point(token.slice(dot + 1))
      : version === VERSION
        ? v2Point(token.slice(version.length))
        : "unsupported";
  if (point === "unsupported") {
    throw new ConsistencyTokenError(
      `prisma-split: consistency token version ${version} is not supported by this prisma-split (it reads v1 and ${VERSION}); ` +
        "was it made by another version of the app?",
    );
  }
  if (point === undefined) {
    throw new ConsistencyTokenError(`prisma-split: malformed ${version} consistency token: ${JSON.stringify(token)}`);
  }
  return point;
}

/** A v1 body: a write time and the position after it, both required (an empty position is no position). */
function v1Point(body: string): ConsistencyPoint | undefined {
  const fields = V1_BODY.exec(body);
  if (fields === null) return undefined;
  const writtenAt = time(fields[1]);
  if (writtenAt === undefined) return undefined;
  return { writtenAt, lsn: BigInt(`0x${fields[2]}`), pin: undefined, floor: undefined, floorAfter: undefined };
}

function v2Point(body: string): ConsistencyPoint | undefined {
  const fields = V2_BODY.exec(body);
  if (fields === null || body === "") return undefined;
  const [, written, lsn, pin, floor, after] = fields;
  const writtenAt = time(written);
  const floorAfter = time(after);
  if ((written !== undefined && writtenAt === undefined) || (after !== undefined && floorAfter === undefined)) {
    return undefined;
  }
  return {
    writtenAt,
    lsn: lsn === undefined ? undefined : BigInt(`0x${lsn}`),
    pin,
    floor: floor === undefined ? undefined : BigInt(`0x${floor}`),
    floorAfter,
  };
}

function time(base36: string | undefined): number | undefined {
  if (base36 === undefined) return undefined;
  const value = Number.parseInt(base36, 36);
  return value <= MAX_TIME ? value : undefined;
}

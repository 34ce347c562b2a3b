import { describe, expect, it } from "vitest";
import { isConsistencyTokenError } from "../../src/errors.ts";
import {
  type ConsistencyPoint,
  decodeConsistencyToken,
  encodeConsistencyToken,
} from "../../src/routing/consistency/token.ts";

const point = (fields: Partial<ConsistencyPoint>): ConsistencyPoint => ({
  writtenAt: undefined,
  lsn: undefined,
  pin: undefined,
  floor: undefined,
  floorAfter: undefined,
  ...fields,
});

describe("consistency token codec", () => {
  it("round-trips a write time, its WAL position, a pinned replica and a floor, in a short header- and cookie-safe string", () => {
    const carried = point({ writtenAt: 1_760_000_000_123, lsn: 0x16b374d848n, pin: "1x2y3z", floor: 0x16b374d900n });
    const token = encodeConsistencyToken(carried);
    expect(token).toBe("v2.tmgj6k3gb.l16b374d848.p1x2y3z.f16b374d900");
    expect(token).toMatch(/^[A-Za-z0-9.]+$/);
    expect(decodeConsistencyToken(token)).toEqual(carried);
  });

  it("carries only what it has: a write without a position, a context that only read (pin, floor-after time)", () => {
    expect(encodeConsistencyToken(point({ writtenAt: 5 }))).toBe("v2.t5");
    expect(decodeConsistencyToken("v2.t5")).toEqual(point({ writtenAt: 5 }));
    const readOnly = point({ pin: "abc", floorAfter: 1_760_000_000_000 });
    expect(decodeConsistencyToken(encodeConsistencyToken(readOnly))).toEqual(readOnly);
  });

  it("still reads a v1 token (an app instance before monotonic reads)", () => {
    expect(decodeConsistencyToken("v1.mgj6k3gb.16b374d848")).toEqual(
      point({ writtenAt: 1_760_000_000_123, lsn: 0x16b374d848n }),
    );
  });

  it("keeps a 64-bit position exact", () => {
    const lsn = 0xfffffffffffffff0n;
    expect(decodeConsistencyToken(encodeConsistencyToken(point({ writtenAt: 1, lsn }))).lsn).toBe(lsn);
  });

  it.each([
    ["not a string", 42, /is a string, got number/],
    ["empty", "", /not a consistency token/],
    ["no version", "hello", /not a consistency token: "hello"/],
    ["a future version", "v3.abc.def", /version v3 is not supported by this prisma-split \(it reads v1 and v2\)/],
    ["a garbled body", "v1.%%%", /malformed v1 consistency token/],
    ["a v1 token with an empty position", "v1.abc.", /malformed v1 consistency token/],
    ["upper-case hex", "v1.abc.DEF", /malformed v1 consistency token/],
    ["a position over 64 bits", "v1.abc.11111111111111111", /malformed/],
    ["a time beyond any date", "v1.zzzzzzzzzzz.1", /malformed/],
    ["a v2 token with nothing in it", "v2", /malformed v2/],
    ["a v2 token with an empty position", "v2.t5.l", /malformed v2/],
    ["a v2 token with fields out of order", "v2.l5.t5", /malformed v2/],
    ["a v2 token with both a floor and a floor-after time", "v2.pabc.f10.a10", /malformed v2/],
    ["too long", `v2.${"a".repeat(100)}`, /at most 96/],
  ])("refuses %s with a ConsistencyTokenError naming the problem", (_case, token, message) => {
    let caught: unknown;
    try {
      decodeConsistencyToken(token);
    } catch (error) {
      caught = error;
    }
    expect(isConsistencyTokenError(caught)).toBe(true);
    expect((caught as Error & { code: string }).code).toBe("PRISMA_SPLIT_CONSISTENCY_TOKEN");
    expect((caught as Error).message).toMatch(message);
  });
});

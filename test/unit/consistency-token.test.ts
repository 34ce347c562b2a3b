import { describe, expect, it } from "vitest";
import { isConsistencyTokenError } from "../../src/errors.ts";
import { decodeConsistencyToken, encodeConsistencyToken } from "../../src/routing/consistency/token.ts";

describe("consistency token codec", () => {
  it("round-trips a write time and a WAL position, in a short header- and cookie-safe string", () => {
    const point = { writtenAt: 1_760_000_000_123, lsn: 0x16b374d848n };
    const token = encodeConsistencyToken(point);
    expect(token).toBe("v1.mgj6k3gb.16b374d848");
    expect(token).toMatch(/^[A-Za-z0-9.]+$/);
    expect(decodeConsistencyToken(token)).toEqual(point);
  });

  it("carries a write without a position ('session' mode, or a position that could not be read)", () => {
    const token = encodeConsistencyToken({ writtenAt: 5, lsn: undefined });
    expect(token).toBe("v1.5.");
    expect(decodeConsistencyToken(token)).toEqual({ writtenAt: 5, lsn: undefined });
  });

  it("keeps a 64-bit position exact", () => {
    const lsn = 0xfffffffffffffff0n;
    expect(decodeConsistencyToken(encodeConsistencyToken({ writtenAt: 1, lsn })).lsn).toBe(lsn);
  });

  it.each([
    ["not a string", 42, /is a string, got number/],
    ["empty", "", /not a consistency token/],
    ["no version", "hello", /not a consistency token: "hello"/],
    ["a future version", "v2.abc.def", /version v2 is not supported by this prisma-split \(it reads v1\)/],
    ["a garbled body", "v1.%%%", /malformed v1 consistency token/],
    ["upper-case hex", "v1.abc.DEF", /malformed v1 consistency token/],
    ["a position over 64 bits", "v1.abc.11111111111111111", /malformed/],
    ["a time beyond any date", "v1.zzzzzzzzzzz.1", /malformed/],
    ["too long", `v1.${"a".repeat(80)}`, /at most 64/],
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

import { describe, expect, it } from "vitest";
import { formatLsn, lsnDistance, lsnReached, parseLsn, parseOptionalLsn } from "../../src/nodes/lsn.ts";

describe("WAL positions", () => {
  it("parse and print as PostgreSQL does", () => {
    expect(parseLsn("16/B374D848")).toBe(0x16b374d848n);
    expect(parseLsn("0/0")).toBe(0n);
    expect(formatLsn(0x16b374d848n)).toBe("16/B374D848");
    expect(parseLsn("FFFFFFFF/FFFFFFFF")).toBe(2n ** 64n - 1n);
    expect(parseOptionalLsn(null)).toBeUndefined();
    expect(() => parseLsn("16-B374D848")).toThrow(/not a PostgreSQL LSN/);
  });

  it("measure distance in bytes, never negative", () => {
    expect(lsnDistance(parseLsn("1/0"), parseLsn("0/FFFFFF00"))).toBe(256);
    expect(lsnDistance(parseLsn("0/10"), parseLsn("0/20"))).toBe(0);
  });

  it("count a standby on the page boundary as having reached an insert position just past the page header", () => {
    const page = 8192n * 1000n;
    expect(lsnReached(page, page + 24n)).toBe(true);
    expect(lsnReached(page - 8n, page + 24n)).toBe(false);
    // Elsewhere, and for the 40-byte header (a record can end there), the position is exact.
    expect(lsnReached(page, page + 40n)).toBe(false);
    expect(lsnReached(page + 32n, page + 40n)).toBe(false);
    expect(lsnReached(page + 40n, page + 40n)).toBe(true);
  });
});

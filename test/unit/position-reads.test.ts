import { describe, expect, it } from "vitest";
import { sharedPositionReads } from "../../src/routing/consistency/position-reads.ts";

/** A position query the test answers by hand. */
function fakeQueries() {
  const sent: Array<(lsn: bigint) => void> = [];
  const read = () => new Promise<bigint>((resolve) => sent.push(resolve));
  return { sent, read };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("sharedPositionReads", () => {
  it("writes that commit while a query runs share the next one, sent after it answers", async () => {
    const { sent, read } = fakeQueries();
    const position = sharedPositionReads(read);
    const first = position();
    const second = position();
    const third = position();
    expect(sent).toHaveLength(1); // the second and third committed after the first query was sent
    sent[0]?.(10n);
    expect(await first).toBe(10n);
    await settle();
    expect(sent).toHaveLength(2);
    sent[1]?.(20n);
    expect([await second, await third]).toEqual([20n, 20n]);
  });

  it("a write after the query answered gets its own", async () => {
    const { sent, read } = fakeQueries();
    const position = sharedPositionReads(read);
    const first = position();
    sent[0]?.(10n);
    await first;
    await settle();
    const second = position();
    expect(sent).toHaveLength(2);
    sent[1]?.(11n);
    expect(await second).toBe(11n);
  });

  it("a failed query fails only the writes it was for; the next one is sent", async () => {
    let calls = 0;
    const position = sharedPositionReads(async () => {
      calls++;
      if (calls === 1) throw new Error("primary went away");
      return 5n;
    });
    const first = position();
    const second = position();
    await expect(first).rejects.toThrow(/went away/);
    expect(await second).toBe(5n);
  });
});

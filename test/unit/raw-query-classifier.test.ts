import { afterEach, describe, expect, it, vi } from "vitest";
import { type CatalogQuery, RawQueryClassifier } from "../../src/routing/raw-sql/raw-query-classifier.ts";
import type { RoutineRow } from "../../src/routing/raw-sql/routine-catalog.ts";

// The caching and waiting logic, with the catalog as a plain table of rows; the real catalog,
// and the node that answers, are in test/integration/raw-sql-routing.test.ts.
const fn = (name: string, volatility: "s" | "v"): RoutineRow => ({
  kind: "f",
  schema: "public",
  name,
  volatile: volatility === "v",
  calls_volatile: false,
});

/** A catalog of `rows` that records the function names of each query it answers. */
function catalog(rows: RoutineRow[]): CatalogQuery & { asked: string[][] } {
  const asked: string[][] = [];
  const query = async (_text: string, values: unknown[]) => {
    const [functions, operators] = values as [string[], string[]];
    asked.push([...functions, ...operators]);
    return rows.filter((row) => functions.includes(row.name) || operators.includes(row.name));
  };
  return Object.assign(query, { asked });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("RawQueryClassifier", () => {
  it("classifies a new text once; then known() answers it synchronously", async () => {
    const rows = catalog([fn("stable_f", "s"), fn("volatile_f", "v")]);
    const classifier = new RawQueryClassifier(rows);
    expect(classifier.known("SELECT stable_f()")).toBeUndefined();
    expect(await classifier.classify("SELECT stable_f()")).toBe("read");
    expect(classifier.known("SELECT stable_f()")).toBe("read");
    expect(await classifier.classify("SELECT volatile_f()")).toBe("write");
    expect(classifier.known("SELECT volatile_f()")).toBe("write");
    expect(rows.asked).toEqual([["stable_f"], ["volatile_f"]]);
  });

  it("asks the catalog once per name: a new text naming known routines needs no query", async () => {
    const plus: RoutineRow = { kind: "o", schema: "pg_catalog", name: "+", volatile: false, calls_volatile: false };
    const rows = catalog([fn("stable_f", "s"), plus]);
    const classifier = new RawQueryClassifier(rows);
    await classifier.classify("SELECT stable_f()");
    expect(await classifier.classify("SELECT stable_f() + 1 AS other_text")).toBe("read");
    expect(rows.asked).toEqual([["stable_f"], ["+"]]);
    expect(await classifier.classify("SELECT stable_f() + 2")).toBe("read");
    expect(rows.asked).toHaveLength(2);
  });

  it("decides a new text synchronously once its routines are known and the parser is loaded", async () => {
    const rows = catalog([fn("stable_f", "s"), fn("volatile_f", "v")]);
    const classifier = new RawQueryClassifier(rows);
    await classifier.classify("SELECT stable_f(), volatile_f()");
    expect(classifier.known("SELECT stable_f() AS new_text")).toBe("read");
    expect(classifier.known("SELECT volatile_f() AS new_text")).toBe("write");
    expect(classifier.known("SELECT stable_f() FOR UPDATE")).toBe("write");
    expect(classifier.known("SELECT never_seen_f()")).toBeUndefined();
    expect(rows.asked).toHaveLength(1);
  });

  it("never asks the catalog about a statement the parse tree already refuses", async () => {
    const rows = catalog([fn("stable_f", "s")]);
    const classifier = new RawQueryClassifier(rows);
    for (const sql of ["SELECT stable_f() FOR UPDATE", "SELECT 1; SELECT 2", "DELETE FROM t", "SELEC 1", ""]) {
      expect(await classifier.classify(sql), sql).toBe("write");
      expect(classifier.known(sql), sql).toBe("write");
    }
    expect(rows.asked).toEqual([]);
  });

  it("a name the catalog does not know yet sends the text to the primary for unsureMs, then asks again", async () => {
    const table: RoutineRow[] = [];
    const rows = catalog(table);
    let now = 0;
    const classifier = new RawQueryClassifier(rows, { unsureMs: 5000, now: () => now });
    expect(await classifier.classify("SELECT created_later()")).toBe("write");
    now = 4999;
    expect(classifier.known("SELECT created_later()")).toBe("write");
    table.push(fn("created_later", "s"));
    now = 5000;
    expect(classifier.known("SELECT created_later()")).toBeUndefined();
    expect(await classifier.classify("SELECT created_later()")).toBe("read");
    expect(rows.asked).toEqual([["created_later"], ["created_later"]]);
  });

  it("a catalog that fails sends the text to the primary, and is asked again after unsureMs", async () => {
    let now = 0;
    let failing = true;
    const classifier = new RawQueryClassifier(
      async () => {
        if (failing) throw new Error("connection refused");
        return [fn("stable_f", "s")];
      },
      { now: () => now },
    );
    expect(await classifier.classify("SELECT stable_f()")).toBe("write");
    failing = false;
    expect(await classifier.classify("SELECT stable_f() AS again")).toBe("write");
    now = 5000;
    expect(await classifier.classify("SELECT stable_f() AS again")).toBe("read");
  });

  it("waits for the catalog at most catalogWaitMs; an answer that comes later serves the next texts", async () => {
    vi.useFakeTimers();
    let answer: ((rows: RoutineRow[]) => void) | undefined;
    const asked: string[] = [];
    const classifier = new RawQueryClassifier(
      (_text, values) => {
        asked.push(...(values[0] as string[]));
        return new Promise((resolve) => {
          answer = resolve;
        });
      },
      { catalogWaitMs: 2000 },
    );
    const first = classifier.classify("SELECT slow_f()");
    await vi.waitUntil(() => answer !== undefined);
    await vi.advanceTimersByTimeAsync(2000);
    expect(await first).toBe("write");
    answer?.([fn("slow_f", "s")]);
    await Promise.resolve();
    expect(await classifier.classify("SELECT slow_f() AS next_text")).toBe("read");
    expect(asked).toEqual(["slow_f"]);
  });

  it("concurrent first calls of one text share one classification", async () => {
    const rows = catalog([fn("stable_f", "s")]);
    const classifier = new RawQueryClassifier(rows);
    const kinds = await Promise.all(Array.from({ length: 5 }, () => classifier.classify("SELECT stable_f()")));
    expect(kinds).toEqual(["read", "read", "read", "read", "read"]);
    expect(rows.asked).toHaveLength(1);
  });

  it("without a parser every raw query goes to the primary, and the load is not retried per call", async () => {
    const loadParser = vi.fn(() => Promise.reject(new Error("no WebAssembly")));
    const classifier = new RawQueryClassifier(catalog([]), { loadParser });
    expect(await classifier.classify("SELECT 1")).toBe("write");
    expect(await classifier.classify("SELECT 2")).toBe("write");
    expect(classifier.known("SELECT 3")).toBe("write");
    expect(loadParser).toHaveBeenCalledTimes(1);
  });

  it("SQL it cannot read (no text in the arguments) and a text over 100,000 characters are writes", () => {
    const classifier = new RawQueryClassifier(catalog([]));
    expect(classifier.known(undefined)).toBe("write");
    expect(classifier.known(`SELECT * FROM (VALUES ${Array(30_000).fill("(1)").join(",")}) v`)).toBe("write");
  });
});

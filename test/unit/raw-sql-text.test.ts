import { describe, expect, it } from "vitest";
import { BoundedCache } from "../../src/routing/raw-sql/bounded-cache.ts";
import { sqlTextOf } from "../../src/routing/raw-sql/sql-text.ts";
import { Prisma } from "../generated/prisma/client.ts";

const tagged = (strings: TemplateStringsArray, ...values: unknown[]) => [strings, ...values];

describe("sqlTextOf", () => {
  it("reads every form of raw query Prisma accepts, values as $n", () => {
    expect(sqlTextOf(tagged`SELECT * FROM t WHERE id = ${1} AND name = ${"x"}`)).toBe(
      "SELECT * FROM t WHERE id = $1 AND name = $2",
    );
    expect(sqlTextOf(["SELECT 1"])).toBe("SELECT 1");
    expect(sqlTextOf([Prisma.sql`SELECT ${1}, ${2}`])).toBe("SELECT $1, $2");
    // TypedSQL: its `sql` is the .sql file's text.
    expect(sqlTextOf([{ sql: "SELECT 2 WHERE $1", values: [1] }])).toBe("SELECT 2 WHERE $1");
    expect(sqlTextOf([42])).toBeUndefined();
    expect(sqlTextOf([])).toBeUndefined();
  });

  it("splices the text of Prisma.sql and Prisma.raw fragments passed as values: they are SQL", () => {
    expect(sqlTextOf(tagged`SELECT ${Prisma.raw("nextval('s')")}`)).toBe("SELECT nextval('s')");
    expect(sqlTextOf(tagged`SELECT * FROM t ${Prisma.sql`WHERE a = ${1}`} LIMIT ${2}`)).toBe(
      "SELECT * FROM t WHERE a = $1 LIMIT $1",
    );
    expect(sqlTextOf(tagged`SELECT * FROM t WHERE id IN (${Prisma.join([1, 2])})`)).toBe(
      "SELECT * FROM t WHERE id IN ($1,$2)",
    );
    expect(sqlTextOf([Prisma.sql`SELECT ${Prisma.raw("pg_advisory_lock(1)")}`])).toBe("SELECT pg_advisory_lock(1)");
  });

  it("gives one call site's text once built, and a fragment's text whenever one is passed there", () => {
    const site = (value: unknown) => tagged`SELECT ${value} AS v`;
    expect(sqlTextOf(site(1))).toBe("SELECT $1 AS v");
    expect(sqlTextOf(site(Prisma.raw("nextval('s')")))).toBe("SELECT nextval('s') AS v");
    expect(sqlTextOf(site(2))).toBe("SELECT $1 AS v");
    const mutable = ["SELECT ", " AS v"];
    expect(sqlTextOf([mutable, 1])).toBe("SELECT $1 AS v");
    mutable[1] = " AS w";
    expect(sqlTextOf([mutable, 1])).toBe("SELECT $1 AS w");
  });
});

describe("BoundedCache", () => {
  it("holds at most two generations, and keeps what is used", () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3); // a, b are now the old generation
    expect(cache.get("a")).toBe(1); // used: back in the young one
    cache.set("d", 4); // young {c, a} full: b is dropped
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.size).toBeLessThanOrEqual(4);
    expect(() => new BoundedCache(0)).toThrow(RangeError);
  });
});

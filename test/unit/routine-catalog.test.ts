import { describe, expect, it } from "vitest";
import { catalogParameters, type RoutineRow, verdictsOf } from "../../src/routing/raw-sql/routine-catalog.ts";
import { type RoutineName, routineKey } from "../../src/routing/raw-sql/statement-shape.ts";

// The rows are what ROUTINE_CATALOG_SQL returns; the real catalog is asked in
// test/integration/raw-sql-routing.test.ts.
const row = (schema: string, name: string, volatility: "i" | "s" | "v", callsVolatile = false): RoutineRow => ({
  kind: "f",
  schema,
  name,
  volatile: volatility === "v",
  calls_volatile: callsVolatile,
});
const fn = (name: string, schema?: string): RoutineName => ({ kind: "function", schema, name });
const verdict = (routine: RoutineName, rows: RoutineRow[]) => verdictsOf([routine], rows).get(routineKey(routine));

describe("verdictsOf", () => {
  it("a function of the name that is not volatile is safe; none at all is absent", () => {
    expect(verdict(fn("now"), [row("pg_catalog", "now", "s")])).toBe("safe");
    expect(verdict(fn("lower"), [row("pg_catalog", "lower", "i")])).toBe("safe");
    expect(verdict(fn("made_a_moment_ago"), [])).toBe("absent");
  });

  it("a volatile one, or one that calls a volatile one (default, SQL body, aggregate), is unsafe", () => {
    expect(verdict(fn("pg_advisory_lock"), [row("pg_catalog", "pg_advisory_lock", "v")])).toBe("unsafe");
    expect(verdict(fn("takes_lock"), [row("public", "takes_lock", "v")])).toBe("unsafe");
    expect(verdict(fn("stable_with_default"), [row("public", "stable_with_default", "s", true)])).toBe("unsafe");
  });

  it("an unqualified name is judged on every schema's functions of it, whatever the search_path", () => {
    const rows = [row("pg_catalog", "lower", "i"), row("app", "lower", "v")];
    expect(verdict(fn("lower"), rows)).toBe("unsafe");
    expect(verdict(fn("lower", "pg_catalog"), rows)).toBe("safe");
    expect(verdict(fn("lower", "app"), rows)).toBe("unsafe");
    expect(verdict(fn("lower", "other"), rows)).toBe("absent");
  });

  it("an overloaded name with one volatile overload is unsafe", () => {
    const rows = [row("public", "f", "v"), row("public", "f", "i")];
    // The query groups overloads per schema; two rows of one schema stand for that too.
    expect(verdict(fn("f"), rows)).toBe("unsafe");
  });

  it("built-in volatile functions that only read are safe, in pg_catalog only", () => {
    for (const name of ["random", "pg_sleep", "clock_timestamp", "gen_random_uuid", "pg_is_in_recovery"]) {
      expect(verdict(fn(name), [row("pg_catalog", name, "v")]), name).toBe("safe");
      expect(verdict(fn(name), [row("pg_catalog", name, "v"), row("app", name, "v")]), name).toBe("unsafe");
    }
    expect(verdict(fn("random", "app"), [row("app", "random", "v")])).toBe("unsafe");
  });

  it("stable built-ins that take a transaction id are unsafe; pg_temp functions always are", () => {
    expect(verdict(fn("txid_current"), [row("pg_catalog", "txid_current", "s")])).toBe("unsafe");
    expect(verdict(fn("pg_current_xact_id"), [row("pg_catalog", "pg_current_xact_id", "s")])).toBe("unsafe");
    expect(verdict(fn("f", "pg_temp"), [row("pg_temp_3", "f", "i")])).toBe("unsafe");
  });

  it("operators are judged by their functions, apart from functions of the same name", () => {
    const operator: RoutineName = { kind: "operator", schema: undefined, name: "===" };
    const rows: RoutineRow[] = [{ kind: "o", schema: "app", name: "===", volatile: true, calls_volatile: false }];
    expect(verdict(operator, rows)).toBe("unsafe");
    expect(verdict(fn("==="), rows)).toBe("absent");
    expect(
      verdict({ kind: "operator", schema: undefined, name: "=" }, [{ ...rows[0]!, name: "=", volatile: false }]),
    ).toBe("safe");
  });

  it("asks for each name once, functions and operators apart", () => {
    const names = [fn("now"), fn("now", "pg_catalog"), { kind: "operator", schema: undefined, name: "=" } as const];
    expect(catalogParameters(names)).toEqual([["now"], ["="]]);
  });
});

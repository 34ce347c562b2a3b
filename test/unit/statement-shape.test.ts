import { beforeAll, describe, expect, it } from "vitest";
import { loadSqlParser, type ParseSql } from "../../src/routing/raw-sql/sql-parser.ts";
import { type RoutineName, readShape } from "../../src/routing/raw-sql/statement-shape.ts";

// PostgreSQL's own parser (libpg-query) on each case: what the tree alone decides, and which
// routines it leaves for the catalog to judge.
let parse: ParseSql;
beforeAll(async () => {
  parse = await loadSqlParser();
});

const shape = (sql: string) => readShape(parse(sql));
const fn = (name: string, schema?: string): RoutineName => ({ kind: "function", schema, name });
const op = (name: string, schema?: string): RoutineName => ({ kind: "operator", schema, name });
const callsOf = (sql: string) => {
  const result = shape(sql);
  if (!result.reads) throw new Error(`${sql}: refused (${result.why})`);
  return result.calls;
};

describe("readShape: what only a single plain SELECT passes", () => {
  it.each([
    ["WITH added AS (INSERT INTO users (email) VALUES ('a') RETURNING id) SELECT * FROM added", "InsertStmt"],
    ["WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone", "DeleteStmt"],
    ["WITH moved AS (UPDATE users SET name = 'x' RETURNING id) SELECT 1", "UpdateStmt"],
    [
      "WITH m AS (MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING t.id) SELECT * FROM m",
      "MergeStmt",
    ],
    ["SELECT * FROM (WITH x AS (DELETE FROM t RETURNING 1) SELECT * FROM x) deep", "DeleteStmt"],
    ["SELECT * INTO backup FROM users", "SELECT INTO"],
    ["SELECT 1 AS x INTO TEMP scratch", "SELECT INTO"],
    ["SELECT * FROM users FOR UPDATE", "FOR UPDATE/SHARE"],
    ["SELECT * FROM users FOR NO KEY UPDATE SKIP LOCKED", "FOR UPDATE/SHARE"],
    ["SELECT * FROM users FOR SHARE", "FOR UPDATE/SHARE"],
    ["SELECT * FROM users FOR KEY SHARE NOWAIT", "FOR UPDATE/SHARE"],
    ["SELECT * FROM (SELECT id FROM users FOR UPDATE) locked", "FOR UPDATE/SHARE"],
    ["SELECT (SELECT id FROM users LIMIT 1 FOR UPDATE) AS id", "FOR UPDATE/SHARE"],
    ["WITH l AS (SELECT id FROM users FOR SHARE) SELECT * FROM l", "FOR UPDATE/SHARE"],
    ["SELECT 1 WHERE EXISTS (SELECT 1 FROM users FOR KEY SHARE)", "FOR UPDATE/SHARE"],
    ["SELECT 1; DELETE FROM users", "2 statements"],
    ["SELECT 1; SELECT 2", "2 statements"],
    ["-- only a comment", "0 statements"],
    ["EXPLAIN ANALYZE DELETE FROM users", "ExplainStmt"],
    ["EXPLAIN SELECT 1", "ExplainStmt"],
    ["SHOW search_path", "VariableShowStmt"],
    ["SET search_path = public", "VariableSetStmt"],
    ["INSERT INTO users (email) VALUES ('a')", "InsertStmt"],
    ["UPDATE users SET name = 'x'", "UpdateStmt"],
    ["DELETE FROM users", "DeleteStmt"],
    ["TRUNCATE users", "TruncateStmt"],
    ["CALL do_things()", "CallStmt"],
    ["DO $$ BEGIN PERFORM pg_advisory_lock(1); END $$", "DoStmt"],
    ["VACUUM", "VacuumStmt"],
    ["NOTIFY channel, 'x'", "NotifyStmt"],
    ["LISTEN channel", "ListenStmt"],
    ["COPY users TO STDOUT", "CopyStmt"],
    ["CREATE TABLE t AS SELECT 1", "CreateTableAsStmt"],
    ["SELECT a.b.c()", "a routine named across databases (a.b.c)"],
  ])("refused: %s (%s)", (sql, why) => {
    const result = shape(sql);
    expect(result.reads).toBe(false);
    expect(result.reads === false && result.why).toContain(why);
  });

  it("leaves a SELECT without routines to the replica: VALUES, TABLE x, set operations, parameters", () => {
    for (const sql of [
      "SELECT 1",
      "  select * from users limit $1;",
      "VALUES (1), (2)",
      "TABLE users",
      "(SELECT 1) UNION (SELECT 2)",
      "WITH recent AS (SELECT * FROM posts) SELECT * FROM recent",
    ]) {
      expect(shape(sql), sql).toEqual({ reads: true, calls: [] });
    }
  });

  it("throws on a syntax error and on an empty text (the classifier sends both to the primary)", () => {
    expect(() => parse("SELEC 1")).toThrow(/syntax error/);
    expect(() => parse("")).toThrow();
  });
});

describe("readShape: every routine named, as the server resolves the text", () => {
  // The cases of issue 24: each reached a replica with the regular expressions.
  it("a quoted identifier is the function it names", () => {
    expect(callsOf('select "pg_advisory_lock"(1)')).toEqual([fn("pg_advisory_lock")]);
    // Unquoted names fold to lower case; quoted ones keep theirs.
    expect(callsOf('SELECT PG_ADVISORY_LOCK(1), "Mixed"()')).toEqual([fn("pg_advisory_lock"), fn("Mixed")]);
  });

  it("an E'' string with an escaped quote does not hide the call after it", () => {
    expect(callsOf("select pg_advisory_lock(1) from (select E'\\'' as x) t")).toEqual([fn("pg_advisory_lock")]);
    expect(callsOf("select E'\\'', pg_advisory_lock(2)")).toEqual([fn("pg_advisory_lock")]);
  });

  it("dollar quoting and comments hide nothing and invent nothing", () => {
    expect(callsOf("SELECT $$ ; nextval('s') $$, $tag$ delete $tag$")).toEqual([]);
    expect(callsOf("SELECT /* nextval('s') */ 1 -- pg_advisory_lock(1)\n")).toEqual([]);
    expect(callsOf("SELECT /* a /* nested */ comment */ pg_try_advisory_lock(1)")).toEqual([
      fn("pg_try_advisory_lock"),
    ]);
    expect(callsOf("SELECT 'insert into x' AS text, \"update\" FROM t")).toEqual([]);
  });

  it("a schema-qualified name keeps its schema; a quoted one with a dot is one name", () => {
    expect(callsOf("SELECT pg_catalog.pg_advisory_lock(1)")).toEqual([fn("pg_advisory_lock", "pg_catalog")]);
    expect(callsOf('SELECT "a.b"()')).toEqual([fn("a.b")]);
    expect(callsOf("SELECT pg_temp.f()")).toEqual([fn("f", "pg_temp")]);
  });

  it("functions the catalog must judge are named wherever they are", () => {
    expect(callsOf("SELECT nextval('users_id_seq')")).toEqual([fn("nextval")]);
    expect(callsOf("SELECT set_config('search_path', 'x', false)")).toEqual([fn("set_config")]);
    expect(callsOf("SELECT pg_notify('ch', 'x')")).toEqual([fn("pg_notify")]);
    expect(callsOf("SELECT lo_creat(-1), lo_get(1)")).toEqual([fn("lo_creat"), fn("lo_get")]);
    expect(callsOf("SELECT txid_current(), pg_current_xact_id()")).toEqual([
      fn("txid_current"),
      fn("pg_current_xact_id"),
    ]);
    expect(callsOf("SELECT * FROM dblink('dbname=x', 'DELETE FROM t') AS r(x int)")).toEqual([fn("dblink")]);
    expect(callsOf("SELECT * FROM users WHERE id = (SELECT lock_it())")).toEqual([op("="), fn("lock_it")]);
    expect(callsOf("WITH c AS (SELECT f_in_cte()) SELECT * FROM c")).toEqual([fn("f_in_cte")]);
    expect(callsOf("SELECT 1 FROM generate_series(1, g()) AS s")).toEqual([fn("generate_series"), fn("g")]);
    expect(callsOf("SELECT 1 FROM ROWS FROM (f1(), f2())")).toEqual([fn("f1"), fn("f2")]);
    expect(callsOf("SELECT 1 GROUP BY f_group() HAVING f_having() ORDER BY f_order() LIMIT f_limit()")).toEqual([
      fn("f_group"),
      fn("f_having"),
      fn("f_order"),
      fn("f_limit"),
    ]);
    expect(callsOf("SELECT count(*) FILTER (WHERE f_filter()) OVER (ORDER BY f_window()) FROM t")).toEqual([
      fn("count"),
      fn("f_filter"),
      fn("f_window"),
    ]);
    expect(callsOf("SELECT CASE WHEN f_when() THEN f_then() END, COALESCE(f_coalesce(), 1)")).toEqual([
      fn("f_when"),
      fn("f_then"),
      fn("f_coalesce"),
    ]);
    expect(callsOf("SELECT f_named(a => f_arg())")).toEqual([fn("f_named"), fn("f_arg")]);
  });

  it("SQL syntax that calls a function names the pg_catalog function", () => {
    expect(callsOf("SELECT position('a' IN 'abc'), extract(year FROM now())")).toEqual([
      fn("position", "pg_catalog"),
      fn("extract", "pg_catalog"),
      fn("now"),
    ]);
  });

  it("operators are named too, qualified with OPERATOR(), and BETWEEN as its comparisons", () => {
    expect(callsOf("SELECT 1 WHERE a = 1 AND b LIKE 'x' AND c IS DISTINCT FROM d")).toEqual([op("="), op("~~")]);
    expect(callsOf("SELECT 3 OPERATOR(myschema.===) 4")).toEqual([op("===", "myschema")]);
    expect(callsOf("SELECT 1 WHERE a BETWEEN 1 AND 2")).toEqual([op(">="), op("<="), op(">"), op("<")]);
    expect(callsOf("SELECT 1 WHERE a IN (SELECT 1) AND b < ALL (SELECT 2)")).toEqual([op("="), op("<")]);
    expect(callsOf("SELECT * FROM t ORDER BY a USING >")).toEqual([op(">")]);
  });
});

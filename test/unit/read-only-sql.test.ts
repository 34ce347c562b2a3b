import { describe, expect, it } from "vitest";
import { isReadOnlySql, sqlTextOf } from "../../src/routing/read-only-sql.ts";

describe("isReadOnlySql", () => {
  it.each([
    "SELECT 1",
    "  select * from users where id = $1;",
    "WITH recent AS (SELECT * FROM posts) SELECT count(*) FROM recent",
    "(SELECT 1) UNION (SELECT 2)",
    "SELECT 'insert into x' AS text, \"update\" FROM t -- delete everything\n",
    "SELECT $$ DELETE FROM t $$",
    "/* UPDATE */ SELECT updated_at, deleted FROM users",
    "SELECT pg_is_in_recovery(), inet_server_port()",
  ])("read-only: %s", (sql) => {
    expect(isReadOnlySql(sql)).toBe(true);
  });

  it.each([
    "INSERT INTO users (email) VALUES ('a')",
    "UPDATE users SET name = 'x'",
    "DELETE FROM users",
    "WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone",
    "WITH moved AS (UPDATE users SET name = 'x' RETURNING id) SELECT 1",
    "SELECT * INTO backup FROM users",
    "SELECT * FROM users FOR UPDATE",
    "SELECT * FROM users FOR NO KEY UPDATE SKIP LOCKED",
    "SELECT * FROM users FOR SHARE",
    "SELECT * FROM users FOR KEY SHARE",
    "SELECT nextval('users_id_seq')",
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_try_advisory_xact_lock(1)",
    "SELECT pg_notify('ch', 'x')",
    "SELECT set_config('search_path', 'x', false)",
    "SELECT txid_current()",
    "SELECT 1; DELETE FROM users",
    "EXPLAIN ANALYZE SELECT 1",
    "TRUNCATE users",
    "CALL do_things()",
    "VACUUM",
    "",
  ])("not read-only: %s", (sql) => {
    expect(isReadOnlySql(sql)).toBe(false);
  });
});

describe("sqlTextOf", () => {
  it("reads every form of raw query Prisma accepts", () => {
    const tagged = Object.assign(["SELECT * FROM t WHERE id = ", ""], { raw: ["SELECT * FROM t WHERE id = ", ""] });
    expect(sqlTextOf([tagged, 1])).toBe("SELECT * FROM t WHERE id =  ");
    expect(sqlTextOf(["SELECT 1"])).toBe("SELECT 1");
    expect(sqlTextOf([{ strings: ["SELECT ", ""], values: [1] }])).toBe("SELECT  ");
    expect(sqlTextOf([{ sql: "SELECT 2", values: [] }])).toBe("SELECT 2");
    expect(sqlTextOf([42])).toBeUndefined();
    expect(sqlTextOf([])).toBeUndefined();
  });
});

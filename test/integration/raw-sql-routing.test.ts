import { beforeAll, describe, expect, it } from "vitest";
import { portOf, uniqueEmail, useCluster } from "./harness.ts";

// Where each raw query ran, observed from outside the client: the `port` column (the stable
// inet_server_port()) of the rows, the advisory locks each server holds (pg_locks), the rows a
// write left on the primary. The catalog is the real one: functions are created on the primary
// and replayed by the standby.
describe("$queryRaw routing with PostgreSQL's parser and the server's catalog", () => {
  const { cluster, db } = useCluster(1);
  const replicaPort = () => cluster().replicas[0]!.port;
  const primaryPort = () => cluster().primary.port;
  type Row = { port: number };

  beforeAll(async () => {
    const primary = cluster().primary;
    for (const statement of [
      // Volatile by default, as every function not declared otherwise.
      "CREATE FUNCTION lock_and_report(k int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(k); RETURN inet_server_port(); END $$",
      "CREATE FUNCTION volatile_reader() RETURNS int LANGUAGE sql AS 'SELECT inet_server_port()'",
      "CREATE FUNCTION stable_port() RETURNS int STABLE LANGUAGE sql AS 'SELECT inet_server_port()'",
      // Declared STABLE, yet its parameter default draws from a sequence: pg_depend records it.
      "CREATE FUNCTION stable_with_default(id bigint DEFAULT nextval('users_id_seq')) RETURNS bigint STABLE LANGUAGE sql AS 'SELECT id'",
      // One name in two schemas: stable in public, volatile in app.
      "CREATE SCHEMA app",
      "CREATE FUNCTION public.twin() RETURNS int STABLE LANGUAGE sql AS 'SELECT inet_server_port()'",
      "CREATE FUNCTION app.twin() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT inet_server_port()'",
      "CREATE EXTENSION dblink",
    ]) {
      await primary.query(statement);
    }
    await primary.query("INSERT INTO users (email) VALUES ($1)", [uniqueEmail("raw-sql")]);
    await cluster().waitForReplicas();
  });

  /** The server that ran `sql`, by the `port` column of its first row. */
  const portFor = async (client: ReturnType<typeof db>, sql: string) =>
    portOf(await client.$queryRawUnsafe<Row[]>(sql));

  /** How many advisory locks on `key` each server holds, asked from outside. */
  async function advisoryLocks(key: number): Promise<{ primary: number; replica: number }> {
    const sql = "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1";
    const [primary] = await cluster().primary.query<{ n: number }>(sql, [key]);
    const [replica] = await cluster().replicas[0]!.query<{ n: number }>(sql, [key]);
    return { primary: primary!.n, replica: replica!.n };
  }

  it("the issue's three advisory-lock queries take their lock on the primary, never on the replica", async () => {
    const client = db();
    // Exactly as reported; their void column may fail to deserialize, the lock is taken before.
    await Promise.resolve(client.$queryRawUnsafe('select "pg_advisory_lock"(1)')).catch(() => undefined);
    await Promise.resolve(client.$queryRawUnsafe("select pg_advisory_lock(2) from (select E'\\'' as x) t")).catch(
      () => undefined,
    );
    expect(await portFor(client, "select lock_and_report(3) as port")).toBe(primaryPort());
    for (const key of [1, 2, 3]) expect(await advisoryLocks(key), `lock ${key}`).toEqual({ primary: 1, replica: 0 });
    // The locks are session locks of pooled connections: closing the pools lets them go.
    await client.$disconnect();
    await expect.poll(() => advisoryLocks(1), { timeout: 10_000 }).toEqual({ primary: 0, replica: 0 });
  });

  it.each([
    ["a stable built-in", "SELECT inet_server_port() AS port"],
    ["qualified with pg_catalog", "SELECT pg_catalog.inet_server_port() AS port, pg_catalog.lower('A') AS l"],
    ["built-in operators", "SELECT inet_server_port() AS port WHERE 2 > 1 AND 'ab' LIKE 'a%' AND 3 BETWEEN 1 AND 4"],
    [
      "a built-in volatile function that only reads",
      "SELECT inet_server_port() AS port, random() AS r FROM pg_sleep(0)",
    ],
    ["a user's STABLE function", "SELECT stable_port() AS port"],
    ["the STABLE twin named with its schema", "SELECT public.twin() AS port"],
    ["VALUES", "SELECT * FROM (VALUES (inet_server_port())) AS v(port)"],
    ["TABLE x", "TABLE node_info"],
    ["an aggregate in a CTE", "WITH c AS (SELECT count(*) AS n FROM users) SELECT inet_server_port() AS port FROM c"],
    [
      "strings and comments that look like writes",
      "SELECT inet_server_port() AS port, 'DELETE' AS d /* UPDATE */ -- nextval()\n",
    ],
  ])("%s runs on the replica", async (_case, sql) => {
    expect(await portFor(db(), sql)).toBe(replicaPort());
  });

  it.each([
    ["a volatile function that only reads", "SELECT volatile_reader() AS port"],
    ["an unqualified name with a volatile twin in another schema", "SELECT twin() AS port"],
    ["a STABLE function whose default calls nextval", "SELECT inet_server_port() AS port, stable_with_default() AS id"],
    ["nextval", "SELECT inet_server_port() AS port, nextval('users_id_seq') AS id"],
    ["set_config", "SELECT inet_server_port() AS port, set_config('prisma_split.test', 'on', true) AS s"],
    ["pg_notify", "SELECT inet_server_port() AS port FROM pg_notify('raw_sql_routing', 'x')"],
    ["lo_creat", "SELECT inet_server_port() AS port, lo_unlink(lo_creat(-1)) AS gone"],
    [
      "txid_current (STABLE, but it assigns a transaction id)",
      "SELECT inet_server_port() AS port, txid_current() AS x",
    ],
    ["pg_current_xact_id", "SELECT inet_server_port() AS port, pg_current_xact_id()::text AS x"],
    ["dblink", "SELECT inet_server_port() AS port, dblink_get_connections() AS c"],
    ["FOR UPDATE in a subquery", "SELECT inet_server_port() AS port FROM (SELECT id FROM users LIMIT 1 FOR UPDATE) s"],
    [
      "FOR SHARE in a CTE",
      "WITH s AS (SELECT id FROM users LIMIT 1 FOR SHARE) SELECT inet_server_port() AS port FROM s",
    ],
    // The regular expressions read these wrong: a quote in a comment, `$$` in strings.
    [
      "a call after a comment with a quote",
      "SELECT inet_server_port() AS port /* it's */, nextval('users_id_seq') AS n",
    ],
    [
      "a call between '$$' strings",
      "SELECT '$$' AS a, nextval('users_id_seq') AS n, '$$' AS b, inet_server_port() AS port",
    ],
    ["SHOW", "SHOW port"],
  ])("%s runs on the primary", async (_case, sql) => {
    const client = db();
    const rows = await client.$queryRawUnsafe<Array<Record<string, unknown>>>(sql);
    expect(Number(rows[0]?.port)).toBe(primaryPort());
    await client.$disconnect();
  });

  it("a data-modifying CTE, SELECT INTO and EXPLAIN ANALYZE of a write run on the primary (their writes land there)", async () => {
    const client = db();
    const [cte, explained] = [uniqueEmail("cte"), uniqueEmail("explain")];
    const added = await client.$queryRaw<Row[]>`
      WITH added AS (INSERT INTO users (email) VALUES (${cte}) RETURNING id)
      SELECT inet_server_port() AS port FROM added`;
    expect(portOf(added)).toBe(primaryPort());
    const table = `into_target_${process.pid}`;
    await client.$queryRawUnsafe(`SELECT 1 AS x INTO ${table}`);
    await client.$queryRawUnsafe(`EXPLAIN ANALYZE INSERT INTO users (email) VALUES ('${explained}')`);
    const [landed] = await cluster().primary.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE email = ANY($1)",
      [[cte, explained]],
    );
    expect(landed!.n).toBe(2);
    expect(await cluster().primary.query("SELECT 1 FROM pg_class WHERE relname = $1", [table])).toHaveLength(1);
  });

  it("several statements go to the primary (which refuses them in one prepared statement)", async () => {
    const client = db();
    const nodes: string[] = [];
    client.$events.on("query", (event) => nodes.push(event.node));
    await expect(client.$queryRawUnsafe("SELECT 1 AS x; SELECT 2 AS y")).rejects.toThrow();
    expect(nodes).toEqual(["primary"]);
  });

  it("a text seen before routes the same without asking again, also in a new createDb()'s view of it", async () => {
    const client = db();
    const sql = "SELECT stable_port() AS port, 'cached' AS tag";
    for (let i = 0; i < 3; i++) expect(await portFor(client, sql)).toBe(replicaPort());
    expect(await portFor(client.$primary(), sql)).toBe(primaryPort());
    expect(await portFor(client.$replica(), "SELECT volatile_reader() AS port")).toBe(replicaPort());
  });

  it("a first, unclassified raw query in a batch $transaction joins it on the primary", async () => {
    const client = db();
    const email = uniqueEmail("batch");
    const [created, rows] = await client.$transaction([
      client.user.create({ data: { email } }),
      client.$queryRaw<Array<{ port: number; seen: number }>>`
        SELECT inet_server_port() AS port, (SELECT count(*)::int FROM users WHERE email = ${email}) AS seen, 'batch' AS tag`,
    ]);
    expect(created.email).toBe(email);
    expect(rows).toEqual([{ port: primaryPort(), seen: 1, tag: "batch" }]);
  });

  it("the catalog is asked on the replica: a function it has not replayed yet sends the query to the primary until it has", async () => {
    const client = db();
    const replica = cluster().replicas[0]!;
    await cluster().waitForReplicas();
    await cluster().pauseReplay(replica);
    try {
      await cluster().primary.query(
        "CREATE FUNCTION fresh_stable() RETURNS int STABLE LANGUAGE sql AS 'SELECT inet_server_port()'",
      );
      // Asked of the primary, the catalog would clear it, and the paused replica would fail it (42883).
      expect(await portFor(client, "SELECT fresh_stable() AS port")).toBe(primaryPort());
    } finally {
      await cluster().resumeReplay(replica);
    }
    await cluster().waitForReplicas();
    await expect
      .poll(() => portFor(client, "SELECT fresh_stable() AS port"), { timeout: 20_000, interval: 500 })
      .toBe(replicaPort());
  });

  it("with the primary down, a new read-only raw query is classified on the replica and served there", async () => {
    const client = db();
    expect((await client.nodeInfo.findFirstOrThrow()).port).toBe(replicaPort());
    await cluster().primary.stop();
    try {
      expect(await portFor(client, "SELECT stable_port() AS port, lower('PRIMARY DOWN') AS l")).toBe(replicaPort());
      // And a query that must have the primary still does not go to the replica.
      await expect(client.$queryRawUnsafe("SELECT volatile_reader() AS port")).rejects.toMatchObject({ status: 503 });
    } finally {
      await cluster().primary.start();
    }
    await cluster().waitForReplicas(30_000);
  });
});

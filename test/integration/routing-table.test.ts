import { makeTypedQueryFactory } from "@prisma/client/runtime/client";
import { describe, expect, it } from "vitest";
import { Prisma } from "../generated/prisma/client.ts";
import { portOf, uniqueEmail, useCluster } from "./harness.ts";

// Each read is observed from the outside: node_info reports the port and recovery state of the
// server that ran it (a standby returns two rows, the primary one), and a write that reached a
// standby would fail with SQLSTATE 25006.
describe("routing table, row by row, on a real primary and streaming replica", () => {
  const { cluster, db } = useCluster(1);
  const replicaPort = () => cluster().replicas[0]!.port;
  const primaryPort = () => cluster().primary.port;

  it("findUnique, findUniqueOrThrow, findFirst, findFirstOrThrow and findMany go to the replica", async () => {
    const client = db();
    expect((await client.nodeInfo.findUnique({ where: { id: 1 } }))?.port).toBe(replicaPort());
    expect((await client.nodeInfo.findUniqueOrThrow({ where: { id: 1 } })).port).toBe(replicaPort());
    expect((await client.nodeInfo.findFirst())?.inRecovery).toBe(true);
    expect((await client.nodeInfo.findFirstOrThrow()).port).toBe(replicaPort());
    const rows = await client.nodeInfo.findMany();
    expect(rows).toHaveLength(2);
    expect(portOf(rows)).toBe(replicaPort());
  });

  it("count, aggregate and groupBy go to the replica", async () => {
    const client = db();
    expect(await client.nodeInfo.count()).toBe(2);
    expect((await client.nodeInfo.aggregate({ _max: { port: true } }))._max.port).toBe(replicaPort());
    const groups = await client.nodeInfo.groupBy({ by: ["port", "inRecovery"], _count: true });
    expect(groups).toEqual([{ port: replicaPort(), inRecovery: true, _count: 2 }]);
  });

  it("every create, update, upsert and delete (also *Many and *AndReturn) runs on the primary", async () => {
    const client = db();
    const email = uniqueEmail("write");
    const created = await client.user.create({ data: { email } });
    await client.user.update({ where: { id: created.id }, data: { name: "updated" } });
    await client.user.upsert({ where: { email }, create: { email }, update: { name: "upserted" } });
    const many = [uniqueEmail("many"), uniqueEmail("many")];
    expect((await client.user.createMany({ data: many.map((e) => ({ email: e })) })).count).toBe(2);
    const returned = await client.user.createManyAndReturn({ data: [{ email: uniqueEmail("andReturn") }] });
    expect(returned).toHaveLength(1);
    expect((await client.user.updateMany({ where: { email: { in: many } }, data: { name: "bulk" } })).count).toBe(2);
    const updated = await client.user.updateManyAndReturn({ where: { email: { in: many } }, data: { name: "bulk2" } });
    expect(updated.map((user) => user.name)).toEqual(["bulk2", "bulk2"]);
    expect((await client.user.deleteMany({ where: { email: { in: many } } })).count).toBe(2);
    await client.user.delete({ where: { id: returned[0]!.id } });

    const rows = await cluster().primary.query<{ name: string }>("SELECT name FROM users WHERE email = $1", [email]);
    expect(rows).toEqual([{ name: "upserted" }]);
  });

  it("a write sent to the standby really fails with 25006 (the check above can fail)", async () => {
    const error = await cluster()
      .replicas[0]!.query("INSERT INTO users (email) VALUES ($1)", [uniqueEmail("standby")])
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("25006");
  });

  it("$transaction runs on the primary, batch and interactive, reads inside included", async () => {
    const client = db();
    const [info, count] = await client.$transaction([client.nodeInfo.findMany(), client.nodeInfo.count()]);
    expect(info).toEqual([{ id: 1, port: primaryPort(), inRecovery: false }]);
    expect(count).toBe(1);

    const email = uniqueEmail("itx");
    const inside = await client.$transaction(async (tx) => {
      await tx.user.create({ data: { email } });
      return { rows: await tx.nodeInfo.findMany(), seen: await tx.user.count({ where: { email } }) };
    });
    expect(inside.rows.map((row) => row.port)).toEqual([primaryPort()]);
    expect(inside.seen).toBe(1);
  });

  it("a batch $transaction with raw queries and a failing item rolls back on the primary", async () => {
    const client = db();
    const email = uniqueEmail("rollback");
    const failure = await client
      .$transaction([
        client.user.create({ data: { email } }),
        client.$executeRaw`INSERT INTO users (email) VALUES (${email})`,
      ])
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    const rows = await cluster().primary.query("SELECT 1 FROM users WHERE email = $1", [email]);
    expect(rows).toHaveLength(0);
  });

  it("$executeRaw and $executeRawUnsafe run on the primary", async () => {
    const client = db();
    const email = uniqueEmail("exec");
    expect(await client.$executeRaw`INSERT INTO users (email) VALUES (${email})`).toBe(1);
    expect(await client.$executeRawUnsafe("UPDATE users SET name = 'x' WHERE email = $1", email)).toBe(1);
    // Even a statement that only reads is a write for routing: $executeRaw is for side effects.
    await client.$executeRaw`SELECT set_config('application_name', 'exec-probe', false)`;
  });

  it("$queryRaw goes to a replica only when the SQL check clears it", async () => {
    const client = db();
    type Row = { port: number };
    const read = await client.$queryRaw<Row[]>`SELECT inet_server_port() AS port`;
    expect(portOf(read)).toBe(replicaPort());
    const unsafe = await client.$queryRawUnsafe<Row[]>("SELECT inet_server_port() AS port WHERE $1::int = 1", 1);
    expect(portOf(unsafe)).toBe(replicaPort());
    const sqlObject = await client.$queryRaw<Row[]>(Prisma.sql`SELECT inet_server_port() AS port`);
    expect(portOf(sqlObject)).toBe(replicaPort());

    const email = uniqueEmail("cte");
    const cte = await client.$queryRaw<Row[]>`
      WITH added AS (INSERT INTO users (email) VALUES (${email}) RETURNING id)
      SELECT inet_server_port() AS port FROM added`;
    expect(portOf(cte)).toBe(primaryPort());
    const locked = await client.$queryRaw<Row[]>`SELECT inet_server_port() AS port FROM users LIMIT 1 FOR UPDATE`;
    expect(portOf(locked)).toBe(primaryPort());
    const sequence = await client.$queryRaw<Row[]>`SELECT inet_server_port() AS port, nextval('users_id_seq')`;
    expect(portOf(sequence)).toBe(primaryPort());
  });

  it("TypedSQL ($queryRawTyped) follows the same rule, with no $primary()/$replica() needed first", async () => {
    const client = db();
    // What `prisma generate --sql` emits for a .sql file, built by hand (generation needs the schema engine).
    const whoAnswers = makeTypedQueryFactory("SELECT inet_server_port() AS port WHERE $1::int = 1");
    expect(portOf((await client.$queryRawTyped(whoAnswers(1))) as Array<{ port: number }>)).toBe(replicaPort());
    const nextId = makeTypedQueryFactory("SELECT inet_server_port() AS port, nextval('users_id_seq') AS id");
    expect(portOf((await client.$queryRawTyped(nextId())) as Array<{ port: number }>)).toBe(primaryPort());
  });

  it("$primary() and $withPrimary() send reads to the primary; $replica() reads from a replica", async () => {
    const client = db();
    expect(portOf(await client.$primary().nodeInfo.findMany())).toBe(primaryPort());
    expect(portOf(await client.$replica().nodeInfo.findMany())).toBe(replicaPort());
    expect(portOf(await client.$withPrimary(() => client.nodeInfo.findMany()))).toBe(primaryPort());
    const nested = await client.$withPrimary(async () => {
      // A timer hop, the scenario itself: the scope must survive it (AsyncLocalStorage), not a wait for anything.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const deeper = async () => client.$queryRaw<{ port: number }[]>`SELECT inet_server_port() AS port`;
      return Promise.all([client.nodeInfo.findFirst(), deeper()]);
    });
    expect(nested[0]?.port).toBe(primaryPort());
    expect(portOf(nested[1])).toBe(primaryPort());
    // Outside the scope, reads are back on the replica.
    expect(portOf(await client.nodeInfo.findMany())).toBe(replicaPort());
  });

  it("$replica() refuses writes with a clear error instead of a standby's 25006", async () => {
    const error = await db()
      .$replica()
      .user.create({ data: { email: uniqueEmail("replica-write") } })
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/user\.create\(\) writes, and db\.\$replica\(\) only reads/);
    const executed = await db().$replica().$executeRaw`SELECT 1`.catch((e: unknown) => e);
    expect((executed as Error).message).toMatch(/\$executeRaw writes/);
    // A raw query the SQL check cannot clear still runs where the caller sent it.
    const [forced] = await db().$replica().$queryRaw<
      Array<{ port: number }>
    >`SELECT inet_server_port() AS port, set_config('search_path', 'public', false)`;
    expect(forced?.port).toBe(replicaPort());
  });

  it("the fluent API returns the relation, read from the replica", async () => {
    const client = db();
    const author = await client.user.create({
      data: { email: uniqueEmail("fluent"), posts: { create: [{ title: "one" }, { title: "two" }] } },
    });
    await cluster().waitForReplicas();
    const replica = cluster().replicas[0]!;
    await cluster().pauseReplay(replica);
    try {
      await client.post.create({ data: { title: "three", authorId: author.id } });
      const posts = await client.user.findUnique({ where: { id: author.id } }).posts({ orderBy: { id: "asc" } });
      // The replica has not replayed "three": proof that it served the read, in the right shape.
      expect(posts?.map((post) => post.title)).toEqual(["one", "two"]);
      const viaPrimary = await client
        .$primary()
        .user.findUniqueOrThrow({ where: { id: author.id } })
        .posts();
      expect(viaPrimary).toHaveLength(3);
      const backToAuthor = await client.post.findFirst({ where: { authorId: author.id } }).author();
      expect(backToAuthor?.email).toBe(author.email);
    } finally {
      await cluster().resumeReplay(replica);
    }
  });
});

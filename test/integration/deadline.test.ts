import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/index.ts";
import { uniqueEmail, useCluster } from "./harness.ts";
import { activeStatements, recordEvents, settle } from "./observe.ts";

// DESIGN.md: `db.$withDeadline(ms | AbortSignal, fn)` bounds every call started in `fn`, attempts
// and waits included, and cancels the running statement on the server when it expires. The
// caller gets a 503 with reason "deadline". Cancellation is observed from outside: a statement
// seen running in pg_stat_activity, whose pg_sleep(600) would outlive the test, leaves it.

const DEADLINE = { name: "DatabaseUnavailableError", status: 503, reason: "deadline" };

describe("db.$withDeadline() on a real primary and streaming replica", () => {
  const { cluster, db } = useCluster(1);
  const replica = () => cluster().replicas[0]!;
  const primary = () => cluster().primary;

  beforeAll(async () => {
    await primary().query("CREATE TABLE deadline_writes (tag text NOT NULL)");
  });

  it("a read that outlives the deadline rejects with a 503 deadline, and its statement is cancelled", async () => {
    const client = db();
    // A client's first raw query loads the SQL parser and reads the catalog (seconds on a busy
    // machine): done here, so that the deadline is spent on the statement.
    await client.$queryRaw`select 'warm-up' as label from pg_sleep(0)`;
    const failed = client
      .$withDeadline(2_000, () => client.$queryRaw`select 'ms-form' as label from pg_sleep(600)`)
      .catch((e: unknown) => e);
    // It runs on the replica before the deadline: what is cancelled is a statement that really runs.
    await expect.poll(() => activeStatements(replica(), "'ms-form' as label"), { timeout: 10_000 }).toBe(1);
    const error = await failed;
    expect(error, String(error)).toMatchObject({ ...DEADLINE, role: "replica" });
    expect(isDatabaseUnavailable(error)).toBe(true);
    await expect.poll(() => activeStatements(replica(), "'ms-form' as label"), { timeout: 3_000 }).toBe(0);
  });

  it("the AbortSignal form: aborting rejects with the same 503 deadline and cancels the running statement", async () => {
    const client = db();
    const controller = new AbortController();
    const running = client.$withDeadline(
      controller.signal,
      () => client.$queryRaw`select 'signal-form' as label from pg_sleep(600)`,
    );
    running.catch(() => {});
    // The statement runs on the replica first: what is cancelled is a statement that really runs.
    await expect.poll(() => activeStatements(replica(), "'signal-form' as label"), { timeout: 10_000 }).toBe(1);
    controller.abort();
    await expect(running).rejects.toMatchObject({ ...DEADLINE, role: "replica" });
    await expect.poll(() => activeStatements(replica(), "'signal-form' as label"), { timeout: 3_000 }).toBe(0);
  });

  it("a write that outlives the deadline is cancelled on the primary and leaves no row", async () => {
    const client = db();
    const tag = uniqueEmail("deadline-write");
    const running = client.$withDeadline(
      2_000,
      () => client.$executeRaw`insert into deadline_writes (tag) select ${tag} from pg_sleep(600)`,
    );
    running.catch(() => {});
    await expect.poll(() => activeStatements(primary(), "deadline_writes"), { timeout: 10_000 }).toBe(1);
    await expect(running).rejects.toMatchObject({ ...DEADLINE, role: "primary" });
    await expect.poll(() => activeStatements(primary(), "deadline_writes"), { timeout: 3_000 }).toBe(0);
    expect(await primary().query("SELECT 1 FROM deadline_writes WHERE tag = $1", [tag])).toEqual([]);
  });

  it("calls that finish in time resolve normally, and a deadline does not bound calls made after it", async () => {
    const client = db();
    const result = await client.$withDeadline(10_000, async () => {
      const count = await client.user.count();
      const info = await client.nodeInfo.findFirstOrThrow();
      await client.user.create({ data: { email: uniqueEmail("in-time") } });
      return { count, port: info.port };
    });
    expect(result).toEqual({ count: expect.any(Number), port: replica().port });

    await expect(
      client.$withDeadline(300, () => client.$queryRaw`select 'expired' as label from pg_sleep(2)`),
    ).rejects.toMatchObject(DEADLINE);
    expect(await client.$queryRaw`select 'after' as label from pg_sleep(1)`).toEqual([{ label: "after" }]);
  });

  it("an expiring deadline on a findUnique that Prisma batched with another caller's does not cancel the other's read", async () => {
    const client = db();
    const [mine, theirs] = await Promise.all(
      ["batched-mine", "batched-theirs"].map((tag) => client.user.create({ data: { email: uniqueEmail(tag) } })),
    );
    // Reads of the table wait behind this lock: both findUniques are still running when the deadline expires.
    const locker = new pg.Client({ connectionString: primary().url });
    await locker.connect();
    try {
      await locker.query("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
      const onPrimary = client.$primary();
      // One tick, one client, the same path: Prisma sends both as one statement.
      const short = client.$withDeadline(300, () => onPrimary.user.findUnique({ where: { id: mine!.id } }));
      const long = client.$withDeadline(60_000, () => onPrimary.user.findUnique({ where: { id: theirs!.id } }));
      long.catch(() => {});
      await expect(short).rejects.toMatchObject({ ...DEADLINE, role: "primary" });
      // One statement for both, still waiting for the lock.
      await expect.poll(() => activeStatements(primary(), '"users"'), { timeout: 3_000 }).toBe(1);
      await locker.query("COMMIT");
      await expect(long).resolves.toMatchObject({ id: theirs!.id });
    } finally {
      await locker.end();
    }
  });
  it("a batched findUnique whose deadline expired is not retried when its statement then fails", async () => {
    const client = db();
    const row = await client.user.create({ data: { email: uniqueEmail("batched-no-retry") } });
    const seen = recordEvents(client, ["query", "retry"]);
    const locker = new pg.Client({ connectionString: primary().url });
    await locker.connect();
    try {
      await locker.query("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
      const onPrimary = client.$primary();
      const read = client.$withDeadline(300, () => onPrimary.user.findUnique({ where: { id: row.id } }));
      await expect(read).rejects.toMatchObject({ ...DEADLINE, role: "primary" });
      // Left running for whoever may share it; now its connection dies: a node fault, which a read
      // would be retried after. The caller has had its 503: nothing is to run for it any more.
      await expect.poll(() => activeStatements(primary(), '"users"'), { timeout: 3_000 }).toBe(1);
      await primary().query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
          "WHERE state = 'active' AND pid <> pg_backend_pid() AND strpos(query, '\"users\"') > 0",
      );
      await expect.poll(() => seen.includes("query primary failed"), { timeout: 5_000 }).toBe(true);
      await settle();
      expect(seen.filter((event) => event.startsWith("retry"))).toEqual([]);
    } finally {
      await locker.query("ROLLBACK").catch(() => {});
      await locker.end();
    }
  });
});

import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ReadYourWrites } from "../../src/config/options.ts";
import { isConsistencyTokenError } from "../../src/index.ts";
import type { RouteReason } from "../../src/routing/router.ts";
import { type TestDb, uniqueEmail, useCluster } from "./harness.ts";

// Replay is paused on the replica while a context writes and reads: a read the replica serves
// cannot see the write, so finding the row proves the read went where read-your-writes sent it,
// and the "off" runs prove that the check can fail.
describe("read-your-writes on a real primary and a paused streaming replica", () => {
  const { cluster, db } = useCluster(1);
  const replica = () => cluster().replicas[0]!;
  let paused = false;

  async function pause(): Promise<void> {
    await cluster().waitForReplicas();
    await cluster().pauseReplay(replica());
    paused = true;
  }
  beforeAll(async () => {
    await cluster().primary.query(
      "CREATE FUNCTION ryw_insert_user(address text) RETURNS int LANGUAGE sql AS $$ INSERT INTO users (email) VALUES (address) RETURNING 1 $$",
    );
    // Declared STABLE, which it is not: the SQL check routes it as a read, the standby refuses it.
    await cluster().primary.query(
      "CREATE FUNCTION ryw_add_user(address text) RETURNS int STABLE LANGUAGE sql AS $$ SELECT ryw_insert_user(address) $$",
    );
  });
  afterEach(async () => {
    if (paused) await cluster().resumeReplay(replica());
    paused = false;
  });

  // Fast polling; no lag bound, so the paused replica stays in rotation (the "off" control needs it).
  const client = (readYourWrites: ReadYourWrites, stickyMs = 60_000) =>
    db({ replicas: { pollIntervalMs: 100, maxLagMs: false }, consistency: { readYourWrites, stickyMs } });

  function reasons(target: TestDb): RouteReason[] {
    const seen: RouteReason[] = [];
    target.$events.on("query", (event) => seen.push(event.reason));
    return seen;
  }

  /** A write, then a read of it, in one consistency context. */
  async function writeThenRead(target: TestDb): Promise<{ found: boolean; token: string | undefined }> {
    const email = uniqueEmail("ryw");
    return target.$withSession(async () => {
      await target.user.create({ data: { email } });
      const found = (await target.user.findUnique({ where: { email } })) !== null;
      return { found, token: target.$consistencyToken() };
    });
  }

  it.each([
    ["session", "sticky"],
    ["lsn", "lsn"],
  ] as const)("%s: a write then a read in one context returns the new row (from the primary)", async (mode, reason) => {
    const target = client(mode);
    await target.$connect();
    await pause();
    const seen = reasons(target);
    const result = await writeThenRead(target);
    expect(result.found).toBe(true);
    expect(seen).toEqual(["write", reason]);
    expect(result.token).toMatch(/^v2\./);
  });

  it("lsn: the write resolves without waiting for its position; a read issued at once after it sees it", async () => {
    const target = client("lsn");
    await target.$connect();
    await pause();
    const seen = reasons(target);
    const email = uniqueEmail("at-once");
    const { tokenAfterWrite, found, tokenAfterRead } = await target.$withSession(async () => {
      await target.user.create({ data: { email } });
      // Nothing has run since the write resolved but microtasks: an answer from the server cannot
      // have come in. Had the write waited for its position, the token would carry it (`.l…`).
      const tokenAfterWrite = target.$consistencyToken();
      const found = (await target.user.findUnique({ where: { email } })) !== null;
      return { tokenAfterWrite, found, tokenAfterRead: target.$consistencyToken() };
    });
    expect(tokenAfterWrite).toMatch(/^v2\.t[0-9a-z]+\.a[0-9a-z]+$/);
    expect(found).toBe(true);
    expect(seen).toEqual(["write", "lsn"]);
    expect(tokenAfterRead).toMatch(/^v2\.t[0-9a-z]+(\.l[0-9a-f]+)?\.a[0-9a-z]+$/);
  });

  it("lsn: a context that only writes sends no position query; the first read after a write sends one", async () => {
    const target = client("lsn");
    await target.$connect();
    const token = await target.$withSession(async () => {
      await target.user.create({ data: { email: uniqueEmail("write-only") } });
      return target.$consistencyToken();
    });
    // The write's time and a "floor after" time, no position: nothing asked for it.
    expect(token).toMatch(/^v2\.t[0-9a-z]+\.a[0-9a-z]+$/);
    const after = await target.$withSession(async () => {
      await target.user.create({ data: { email: uniqueEmail("write-read") } });
      await target.user.count();
      await vi.waitFor(() => expect(target.$consistencyToken()).toMatch(/\.l[0-9a-f]+/), {
        timeout: 5_000,
        interval: 5,
      });
      return target.$consistencyToken();
    });
    expect(after).toMatch(/^v2\.t[0-9a-z]+\.l[0-9a-f]+\.a[0-9a-z]+$/);
  });

  it("off: the same read misses the row, served by the replica (the negative control)", async () => {
    const target = client("off");
    await pause();
    const seen = reasons(target);
    const result = await writeThenRead(target);
    expect(result.found).toBe(false);
    expect(seen).toEqual(["write", "read"]);
    expect(result.token).toBeUndefined();
  });

  it("outside any context each call stands alone, whatever the mode", async () => {
    const target = client("lsn");
    await pause();
    const email = uniqueEmail("alone");
    await target.user.create({ data: { email } });
    expect(await target.user.findUnique({ where: { email } })).toBeNull();
    expect(target.$consistencyToken()).toBeUndefined();
  });

  it("lsn: once replay resumes, the context's reads go back to the replica", async () => {
    const target = client("lsn");
    await pause();
    const email = uniqueEmail("resume");
    await target.$withSession(async () => {
      await target.user.create({ data: { email } });
      expect((await target.nodeInfo.findFirstOrThrow()).port).toBe(cluster().primary.port);
      await cluster().resumeReplay(replica());
      paused = false;
      // The monitor sees the replica replay past the write within a poll or two.
      await expect
        .poll(async () => (await target.nodeInfo.findFirstOrThrow()).port, { timeout: 10_000, interval: 50 })
        .toBe(replica().port);
      expect(await target.user.findUnique({ where: { email } })).not.toBeNull();
    });
  });

  it("session: reads return to the replica once stickyMs has passed", async () => {
    // The sticky window runs on Date.now, faked here and moved by hand (from before createDb(),
    // which takes the clock): how long a busy machine takes between two reads then changes nothing.
    // Timers, sockets and the monitor run for real.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const target = client("session", 1500);
      await target.$withSession(async () => {
        await target.user.create({ data: { email: uniqueEmail("sticky") } });
        expect((await target.nodeInfo.findFirstOrThrow()).port).toBe(cluster().primary.port);
        vi.advanceTimersByTime(1499);
        expect((await target.nodeInfo.findFirstOrThrow()).port).toBe(cluster().primary.port);
        vi.advanceTimersByTime(1);
        // Monotonic reads: back on the replica once the monitor has seen it past what the primary
        // showed the context (its reads there included), a poll or two.
        await expect
          .poll(async () => (await target.nodeInfo.findFirstOrThrow()).port, { timeout: 10_000, interval: 50 })
          .toBe(replica().port);
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it("a batch and an interactive $transaction count as writes", async () => {
    const target = client("lsn");
    await target.$connect();
    await pause();
    const [batch, interactive] = [uniqueEmail("batch"), uniqueEmail("itx")];
    const found = await target.$withSession(async () => {
      await target.$transaction([target.user.create({ data: { email: batch } })]);
      await target.$transaction(async (tx) => tx.user.create({ data: { email: interactive } }));
      return target.user.count({ where: { email: { in: [batch, interactive] } } });
    });
    expect(found).toBe(2);
  });

  it("a write the SQL check cannot see, re-run on the primary after the replica's 25006, counts as a write", async () => {
    const target = client("lsn");
    await target.$connect();
    await pause();
    const email = uniqueEmail("misrouted");
    const seen = reasons(target);
    const found = await target.$withSession(async () => {
      // A function that inserts, declared STABLE: routed as a read, refused by the standby, run once on the primary.
      await target.$queryRaw`select ryw_add_user(${email}) as added`;
      return target.user.findUnique({ where: { email } });
    });
    expect(found?.email).toBe(email);
    expect(seen).toEqual(["read", "write", "lsn"]);
  });

  it("$withPrimary inside a context keeps the context; a nested $withSession joins it", async () => {
    const target = client("lsn");
    await target.$connect();
    await pause();
    const email = uniqueEmail("nested");
    const found = await target.$withSession(async () => {
      await target.$withPrimary(() => target.user.create({ data: { email } }));
      return target.$withSession(() => target.user.findUnique({ where: { email } }));
    });
    expect(found?.email).toBe(email);
  });

  it.each(["lsn", "session"] as const)(
    "%s: a token carried to a second createDb() instance gives read-your-writes there",
    async (mode) => {
      const first = client(mode);
      const second = client(mode);
      await Promise.all([first.$connect(), second.$connect()]);
      await pause();
      const email = uniqueEmail("token");
      const token = await first.$withSession(async () => {
        await first.user.create({ data: { email } });
        return first.$consistencyToken();
      });
      expect(token).toMatch(/^v2\./);
      // Without the token the other instance reads from the replica, which has not replayed it.
      expect(await second.$withSession(() => second.user.findUnique({ where: { email } }))).toBeNull();
      const resumed = await second.$withConsistency(token, async () => ({
        row: await second.user.findUnique({ where: { email } }),
        token: second.$consistencyToken(),
      }));
      expect(resumed.row?.email).toBe(email);
      // Carried on to the next response: the write (and in "lsn" its position), with what this read saw.
      const written = /^v2(\.t[0-9a-z]+)(\.l[0-9a-f]+)?/.exec(token ?? "")?.[0];
      expect(written).toBeDefined();
      expect(resumed.token?.startsWith(written as string)).toBe(true);
    },
  );

  it("a malformed or foreign token is refused with a clear error before fn runs, and the event says so", async () => {
    const target = client("lsn");
    const refused: string[] = [];
    target.$events.on("consistency:token-refused", (event) => refused.push(`${event.source}: ${event.reason}`));
    let ran = false;
    const error = await target
      .$withConsistency("v9.abc.def", () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(isConsistencyTokenError(error)).toBe(true);
    expect((error as Error).message).toMatch(/version v9 is not supported/);
    expect(ran).toBe(false);
    expect(refused).toEqual([expect.stringMatching(/^\$withConsistency: .*version v9 is not supported/)]);
    expect(await target.$withConsistency(undefined, () => "no token, just a context")).toBe("no token, just a context");
  });
});

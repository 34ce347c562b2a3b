import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/cli/doctor.ts";
import type { PoolOversubscribedEvent } from "../../src/index.ts";
import {
  PGBOUNCER_MISSING,
  type PgBouncer,
  pgbouncerBinary,
  startPgBouncer,
  writeSelfSignedCertificate,
} from "../cluster/pgbouncer.ts";
import { createPasswordRole } from "./fixtures/auth.ts";
import { portOf, uniqueEmail, useCluster } from "./harness.ts";

/**
 * Everything through a real PgBouncer (Debian's package) in transaction mode, in front of the
 * primary and the replica, with `?pgbouncer=true`: routing, the LSN query of read-your-writes,
 * time bounds, `schema`, prepared statements, transactions, shutdown.
 */
const installed = pgbouncerBinary() !== undefined;
if (!installed) console.warn(`\n*** ${PGBOUNCER_MISSING} ***\n`);

const { cluster, db } = useCluster(1);
let bouncer: PgBouncer | undefined;

const secret = "bouncer-s3cret";

beforeAll(async () => {
  if (!installed) return;
  await createPasswordRole(cluster(), "split_pgb", secret);
  bouncer = await startPgBouncer(cluster(), { split_pgb: secret });
});
afterAll(async () => {
  await bouncer?.stop();
});

function through(options: Parameters<typeof db>[0] = {}, params = "") {
  const b = bouncer as PgBouncer;
  return db({
    primaryUrl: `${b.url("primary")}${params}`,
    replicaUrls: [`${b.url("replica-0")}${params}`],
    ...options,
  });
}

describe.skipIf(!installed)("through PgBouncer (transaction mode)", () => {
  it("routes reads to the replica and writes to the primary, with prepared statements, many times over", async () => {
    const app = through();
    const replicaPort = cluster().replicas[0]?.port;
    await expect.poll(async () => portOf(await app.nodeInfo.findMany()), { timeout: 10_000 }).toBe(replicaPort);
    // The server's own port, seen through PgBouncer: the writes are on the primary.
    const [primaryInfo] = await app.$primary().nodeInfo.findMany();
    expect(primaryInfo).toMatchObject({ port: cluster().primary.port, inRecovery: false });
    for (let i = 0; i < 30; i++) {
      const email = uniqueEmail("bouncer");
      const created = await app.user.create({ data: { email } });
      expect(await app.$primary().user.findUnique({ where: { id: created.id } })).toMatchObject({ email });
    }
  });

  it("read-your-writes (lsn) works: the LSN query and the replica's position through PgBouncer", async () => {
    const app = through();
    await cluster().pauseReplay(cluster().replicas[0] as never);
    try {
      const email = uniqueEmail("lsn");
      const found = await app.$withSession(async () => {
        await app.user.create({ data: { email } });
        return app.user.findFirst({ where: { email } });
      });
      expect(found?.email).toBe(email);
    } finally {
      await cluster().resumeReplay(cluster().replicas[0] as never);
    }
  });

  it("?schema= connects (no `options` startup parameter, which PgBouncer refuses) and queries the schema", async () => {
    const app = through({}, "&schema=public");
    const email = uniqueEmail("schema");
    await app.user.create({ data: { email } });
    expect(await app.$primary().user.count({ where: { email } })).toBe(1);
  });

  it("interactive transactions commit and roll back, unbounded by breaker.timeout; outside them the bound holds", async () => {
    // 600 ms: pg's read timeout is 900 ms (no server-side statement_timeout can pass PgBouncer).
    const app = through({ breaker: { timeout: 600 }, retry: false });
    const email = uniqueEmail("tx");
    await app.$transaction(async (tx) => {
      await tx.user.create({ data: { email } });
      await tx.$queryRaw`SELECT pg_sleep(1.2)::text`;
    });
    expect(await app.$primary().user.count({ where: { email } })).toBe(1);
    const rolledBack = uniqueEmail("tx");
    await expect(
      app.$transaction(async (tx) => {
        await tx.user.create({ data: { email: rolledBack } });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await app.$primary().user.count({ where: { email: rolledBack } })).toBe(0);
    await expect(app.$primary().$queryRaw`SELECT pg_sleep(1.2)::text`).rejects.toThrow();
  });

  it("a password function logs in through PgBouncer (scram), for the pools and the replica monitor", async () => {
    const b = bouncer as PgBouncer;
    let asked = 0;
    const app = db({
      primaryUrl: b.url("primary", "split_pgb"),
      replicaUrls: [b.url("replica-0", "split_pgb")],
      pool: {
        password: async () => {
          asked += 1;
          return secret;
        },
      },
    });
    const email = uniqueEmail("pgb-auth");
    await app.user.create({ data: { email } });
    await expect
      .poll(async () => portOf(await app.nodeInfo.findMany()), { timeout: 10_000 })
      .toBe(cluster().replicas[0]?.port);
    expect(asked).toBeGreaterThanOrEqual(3);
    const wrong = db({ primaryUrl: b.url("primary", "split_pgb"), replicaUrls: [], pool: { password: () => "nope" } });
    // PgBouncer says it with 08P01, not 28P01: still a configuration error at once, not a 503 after retries.
    const refused = (await wrong.user.count().catch((error: unknown) => error)) as Error & { problem?: string };
    expect(refused).toMatchObject({ name: "DatabaseConfigurationError", problem: "authentication" });
    expect(refused.message).toMatch(/PgBouncer refused the login \(authentication\), sqlstate 08P01/);
    expect(refused.message).not.toContain("nope");
  });

  it("an ssl object: PgBouncer requires TLS, its certificate is verified against the given CA", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "prisma-split-tls-"));
    writeSelfSignedCertificate(dir);
    const tls = await startPgBouncer(
      cluster(),
      {},
      { tls: { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` } },
    );
    try {
      const urls = { primaryUrl: tls.url("primary"), replicaUrls: [tls.url("replica-0")] };
      const app = db({ ...urls, pool: { ssl: { ca: readFileSync(`${dir}/cert.pem`, "utf8") } } });
      const email = uniqueEmail("tls");
      await app.user.create({ data: { email } });
      expect(await app.$primary().user.count({ where: { email } })).toBe(1);
      await app.$disconnect();
      // The controls: without TLS PgBouncer refuses; with TLS but without the CA the certificate is not trusted.
      const plain = await db({ ...urls, replicaUrls: [] })
        .user.count()
        .catch((error: unknown) => error as { name?: string; problem?: string; message?: string });
      expect(plain).toMatchObject({ name: "DatabaseConfigurationError", problem: "ssl" });
      expect((plain as Error).message).toMatch(
        /takes this connection only over TLS.*sslmode=verify-full.*sslmode=no-verify/,
      );
      const untrusted = await db({ ...urls, replicaUrls: [], pool: { ssl: {} } })
        .user.count()
        .catch((error: unknown) => error as { name?: string; problem?: string });
      expect(untrusted).toMatchObject({ name: "DatabaseConfigurationError", problem: "ssl" });
    } finally {
      await tls.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("$disconnect() closes every client connection to PgBouncer and the next call reopens", async () => {
    const app = through({}, "&application_name=bouncer-disconnect");
    // PgBouncer's own list of its clients (the admin console), this app's only.
    const clients = async () => {
      const admin = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${bouncer!.port}/pgbouncer` });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ application_name: string }>("SHOW CLIENTS");
        return rows.filter((row) => row.application_name === "bouncer-disconnect").length;
      } finally {
        await admin.end();
      }
    };
    expect(portOf(await app.nodeInfo.findMany())).toBe(cluster().replicas[0]?.port);
    expect(portOf(await app.$primary().nodeInfo.findMany())).toBe(cluster().primary.port);
    expect(await clients()).toBeGreaterThanOrEqual(2);
    await app.$disconnect();
    await expect.poll(clients, { timeout: 10_000 }).toBe(0);
    expect(portOf(await app.nodeInfo.findMany())).toBe(cluster().replicas[0]?.port);
    expect(portOf(await app.$primary().nodeInfo.findMany())).toBe(cluster().primary.port);
    await app.$disconnect();
  });

  it("doctor behind PgBouncer: not failed on the server's max_connections; PgBouncer's max_client_conn when readable", async () => {
    const b = bouncer as PgBouncer;
    const asApp = (node: string) =>
      `${b.url(node, "split_pgb").replace("split_pgb@", `split_pgb:${secret}@`)}&connection_limit=3`;
    // The app's role: PgBouncer's admin console refuses it, and doctor says what it could not check.
    // 40 x (3 + 3) = 240 would exceed the server's max_connections 100 - 10: no problem here.
    const app = await runDoctor({
      primaryUrl: asApp("primary"),
      replicaUrls: asApp("replica-0"),
      instances: 40,
      env: {},
    });
    console.log(app.notes[0]);
    expect(app.problems).toEqual([]);
    expect(app.ok).toBe(true);
    expect(app.nodes.map((node) => node.roleCheck)).toEqual(["ok", "ok"]);
    expect(app.nodes[0]?.pgbouncer).toMatchObject({ limits: undefined, unreadable: expect.any(String) });
    expect(app.notes).toHaveLength(1);
    expect(app.notes[0]).toMatch(
      /^primary, replica-0: behind PgBouncer \(pgbouncer=true\) at [\w.]+:\d+: the server's max_connections is not checked/,
    );
    expect(app.notes[0]).toContain("40 instance(s) x 6 = 240 client connections fit its max_client_conn");
    expect(app.notes.join(" ")).not.toContain(secret);
    expect(JSON.stringify(app)).not.toContain("put PgBouncer");

    // An admin (admin_users = postgres): the pools are counted against max_client_conn 500.
    const asAdmin = (node: string) => `${b.url(node)}&connection_limit=3`;
    const fits = await runDoctor({
      primaryUrl: asAdmin("primary"),
      replicaUrls: asAdmin("replica-0"),
      instances: 40,
      env: {},
    });
    expect(fits.problems).toEqual([]);
    expect(fits.nodes[0]?.pgbouncer?.limits).toMatchObject({ maxClientConn: 500, defaultPoolSize: 20 });
    expect(fits.nodes[0]?.plan).toMatchObject({ planned: 240, budget: 500, fits: true });
    expect(fits.notes[0]).toContain("240 client connections counted against its max_client_conn 500 (SHOW CONFIG)");
    const over = await runDoctor({
      primaryUrl: asAdmin("primary"),
      replicaUrls: asAdmin("replica-0"),
      instances: 100,
      env: {},
    });
    expect(over.ok).toBe(false);
    expect(over.problems).toEqual([
      expect.stringMatching(
        /^primary, replica-0: 100 instance\(s\) x 6 connections = 600 client connections exceed PgBouncer's max_client_conn 500 on [\w.]+:\d+; use connection_limit=2/,
      ),
    ]);
  });

  it("the runtime pool check does not count pools behind PgBouncer against the server's max_connections", async () => {
    const b = bouncer as PgBouncer;
    const oversubscribed: PoolOversubscribedEvent[] = [];
    const options = { poolCheck: { instances: 40 } } as const;
    // The control: the same pools straight to the servers do not fit (40 x 3 > 90), and are reported.
    const direct = db({
      ...options,
      primaryUrl: `${cluster().primaryUrl}?connection_limit=3`,
      replicaUrls: [`${cluster().replicaUrls[0]}?connection_limit=3`],
    });
    direct.$events.on("pool:oversubscribed", (event) => oversubscribed.push(event));
    await direct.$health();
    expect(oversubscribed.flatMap((event) => event.nodes).sort()).toEqual(["primary", "replica-0"]);
    oversubscribed.length = 0;

    const app = db({
      ...options,
      primaryUrl: `${b.url("primary")}&connection_limit=3`,
      replicaUrls: [`${b.url("replica-0")}&connection_limit=3`],
    });
    app.$events.on("pool:oversubscribed", (event) => oversubscribed.push(event));
    expect(portOf(await app.$primary().nodeInfo.findMany())).toBe(cluster().primary.port);
    // $health() waits for the pool check of every server it checks.
    const health = await app.$health();
    expect(health.primary.reachable).toBe(true);
    expect(oversubscribed).toEqual([]);
  });

  it("a PgBouncer URL without pgbouncer=true: the error names the startup parameter and says to add pgbouncer=true", async () => {
    const b = bouncer as PgBouncer;
    const withoutFlag = b.url("primary").replace("?pgbouncer=true", "");
    const refused = (await db({ primaryUrl: withoutFlag, replicaUrls: [] })
      .user.count()
      .catch((error: unknown) => error)) as Error & { problem?: string };
    expect(refused).toMatchObject({ name: "DatabaseConfigurationError", problem: "startup-parameter" });
    console.log(refused.message);
    expect(refused.message).toContain(
      "the server is a PgBouncer, which refuses the startup parameter `statement_timeout`",
    );
    expect(refused.message).toContain("add `pgbouncer=true` to the URL");
    expect(refused.message).toContain("`ignore_startup_parameters`");
    // A parameter of the user's own: remove it.
    const own = await db({ primaryUrl: `${b.url("primary")}&options=-c%20work_mem%3D8MB`, replicaUrls: [] })
      .user.count()
      .catch((error: unknown) => error as Error);
    expect(own).toMatchObject({ problem: "startup-parameter" });
    expect((own as Error).message).toContain(
      "PgBouncer refuses the startup parameter `options`, set in this node's URL or `pool` settings: remove it",
    );
  });
});

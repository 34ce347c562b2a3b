import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSelfSignedCertificate } from "../cluster/pgbouncer.ts";
import { asUser } from "./fixtures/auth.ts";
import { createTlsOnlyRole, enableServerTls } from "./fixtures/server-tls.ts";
import { useCluster } from "./harness.ts";

/**
 * A PostgreSQL server with TLS on and a self-signed certificate (made with openssl): what a
 * DatabaseConfigurationError says when the client's TLS settings do not fit the server's.
 */
const { cluster, db } = useCluster(0);
let dir: string;
let cert: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "prisma-split-server-tls-"));
  const files = writeSelfSignedCertificate(dir);
  cert = readFileSync(files.cert, "utf8");
  await enableServerTls(cluster().primary, files);
  await createTlsOnlyRole(cluster().primary, "split_tls");
});
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const refusal = (app: ReturnType<typeof db>) =>
  app.$queryRaw`SELECT 1 AS one`.then(
    () => undefined,
    (error: unknown) => error as Error & { problem?: string },
  );

describe("TLS settings against a server with a self-signed certificate", () => {
  it("sslmode=require: the message says pg verifies the certificate with it, and what to use instead", async () => {
    const error = await refusal(db({ primaryUrl: `${cluster().primaryUrl}?sslmode=require`, replicaUrls: [] }));
    expect(error).toMatchObject({ name: "DatabaseConfigurationError", problem: "ssl", node: "primary" });
    console.log(error?.message);
    expect(error?.message).toContain(
      "`sslmode=require` verifies the certificate in pg (as libpq's verify-full does), and the server's is not trusted (self-signed certificate)",
    );
    expect(error?.message).toContain("use `sslmode=no-verify` to encrypt without verifying, or give the server's CA");
    expect(error?.message).toContain("`pool.ssl.ca`");
    // Both ways out work.
    const noVerify = db({ primaryUrl: `${cluster().primaryUrl}?sslmode=no-verify`, replicaUrls: [] });
    expect(await noVerify.$queryRaw`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).toEqual([{ ssl: true }]);
    const withCa = db({ primaryUrl: cluster().primaryUrl, replicaUrls: [], pool: { ssl: { ca: cert } } });
    expect(await withCa.$queryRaw`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).toEqual([{ ssl: true }]);
  });

  it("an ssl object without the CA: the certificate is not trusted, give pool.ssl.ca", async () => {
    const error = await refusal(db({ primaryUrl: cluster().primaryUrl, replicaUrls: [], pool: { ssl: {} } }));
    expect(error).toMatchObject({ name: "DatabaseConfigurationError", problem: "ssl" });
    expect(error?.message).toContain(
      "the server's certificate is not trusted (self-signed certificate): give its CA (`pool.ssl.ca`",
    );
  });

  it("a role the server takes only over TLS (pg_hba hostssl), connecting without: ssl, not authentication", async () => {
    const url = asUser(cluster().primaryUrl, "split_tls");
    const error = await refusal(db({ primaryUrl: url, replicaUrls: [] }));
    expect(error).toMatchObject({ name: "DatabaseConfigurationError", problem: "ssl" });
    expect(error?.message).toContain("the server refuses this connection without TLS (pg_hba.conf), sqlstate 28000");
    expect(error?.message).toContain("add `sslmode=verify-full` with the server's CA");
    // The control: the same role over TLS logs in.
    const tls = db({ primaryUrl: `${url}?sslmode=no-verify`, replicaUrls: [] });
    expect(await tls.$queryRaw`SELECT current_user::text AS role`).toEqual([{ role: "split_tls" }]);
  });
});

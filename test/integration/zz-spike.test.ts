import { mkdtempSync, writeFileSync, chownSync, statSync, readFileSync, copyFileSync, chmodSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, it } from "vitest";
import { startPgBouncer, writeSelfSignedCertificate, type PgBouncer } from "../cluster/pgbouncer.ts";
import { createPasswordRole, asUser } from "./fixtures/auth.ts";
import { useCluster } from "./harness.ts";
import { serializeError } from "../fixtures/faults/serialize-error.ts";

const { cluster, db } = useCluster(1);
let bouncer: PgBouncer;
beforeAll(async () => {
  await createPasswordRole(cluster(), "split_pw", "pw");
  bouncer = await startPgBouncer(cluster(), { split_pw: "pw" });
});
afterAll(async () => { await bouncer?.stop(); });
const show = (label: string, e: unknown) => console.log(label, JSON.stringify(serializeError(e), null, 1));

it("spike", async () => {
  const noFlag = bouncer.url("primary").replace("?pgbouncer=true", "?schema=public");
  show("startup-param schema", await db({ primaryUrl: noFlag, replicaUrls: [] }).user.count().catch((e) => e));
  show("startup-param timeout", await db({ primaryUrl: bouncer.url("primary").replace("?pgbouncer=true", ""), replicaUrls: [], breaker: { timeout: 2000 } }).user.count().catch((e) => e));
  const pwUrl = asUser(cluster().primaryUrl, "split_pw");
  show("pw throws", await db({ primaryUrl: pwUrl, replicaUrls: [], pool: { password: () => { throw new Error("vault down"); } } }).user.count().catch((e) => e));
  show("pw undefined", await db({ primaryUrl: pwUrl, replicaUrls: [], pool: { password: (() => undefined) as never } }).user.count().catch((e) => e));
  // ssl
  const [row] = await cluster().primary.query<{ data_directory: string }>("SHOW data_directory");
  const dir = row!.data_directory;
  const tmp = mkdtempSync(path.join(os.tmpdir(), "spike-tls-"));
  const { cert, key } = writeSelfSignedCertificate(tmp);
  const owner = statSync(dir);
  for (const [src, name] of [[cert, "server.crt"], [key, "server.key"]] as const) {
    copyFileSync(src, path.join(dir, name)); chownSync(path.join(dir, name), owner.uid, owner.gid); chmodSync(path.join(dir, name), 0o600);
  }
  await cluster().primary.query("ALTER SYSTEM SET ssl = on");
  await cluster().primary.query("SELECT pg_reload_conf()");
  const [hba] = await cluster().primary.query<{ hba_file: string }>("SHOW hba_file");
  writeFileSync(hba!.hba_file, `hostnossl all split_tls 127.0.0.1/32 reject\n${readFileSync(hba!.hba_file, "utf8")}`);
  await cluster().primary.query("CREATE ROLE split_tls LOGIN");
  await cluster().primary.query("SELECT pg_reload_conf()");
  await new Promise((r) => setTimeout(r, 500));
  const sslUrl = `${cluster().primaryUrl}${cluster().primaryUrl.includes("?") ? "&" : "?"}sslmode=require`;
  show("sslmode require", await db({ primaryUrl: sslUrl, replicaUrls: [] }).user.count().catch((e) => e));
  show("hostssl only", await db({ primaryUrl: asUser(cluster().primaryUrl, "split_tls"), replicaUrls: [] }).user.count().catch((e) => e));
  show("ssl obj no ca", await db({ primaryUrl: cluster().primaryUrl, replicaUrls: [], pool: { ssl: {} } }).user.count().catch((e) => e));
  show("no-verify", await db({ primaryUrl: sslUrl.replace("require", "no-verify"), replicaUrls: [] }).user.count().catch((e) => e));
}, 60000);

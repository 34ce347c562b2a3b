/**
 * Issue 14's closing note, reproducible: a fresh app outside the repository (its own schema, the
 * packed tarball from `npm pack`), whose nodes log in with a `password` function and verify
 * PgBouncer's certificate with an `ssl` object, through a TLS PgBouncer in transaction mode in
 * front of a real primary + streaming replica; the primary is killed and started again. It prints
 * the app's pino lines and its OpenTelemetry spans (in-memory exporter).
 *
 * Needs Debian's `pgbouncer` and openssl. Run: npx tsx scripts/stack-show.ts
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, startCluster } from "../src/dev-cluster/index.ts";
import { startPgBouncer, writeSelfSignedCertificate } from "../test/cluster/pgbouncer.ts";
import { createPasswordRole } from "../test/integration/fixtures/auth.ts";

const SCHEMA =
  'generator client {\n  provider            = "prisma-client"\n  output              = "../src/generated/prisma"\n  moduleFormat        = "esm"\n  importFileExtension = "js"\n}\n\ndatasource db {\n  provider = "postgresql"\n}\n\nmodel Note {\n  id   Int    @id @default(autoincrement())\n  text String\n\n  @@map("notes")\n}\n\n/// Which server answered.\nmodel Server {\n  port    Int     @id\n  standby Boolean\n\n  @@map("server")\n}\n';
const MIGRATION =
  'CREATE TABLE "notes" ("id" SERIAL PRIMARY KEY, "text" TEXT NOT NULL);\nCREATE VIEW "server" AS SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby;\nGRANT ALL ON "notes", "server" TO fresh_app;\nGRANT ALL ON SEQUENCE "notes_id_seq" TO fresh_app;\n';
const TSCONFIG =
  '{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "outDir": "dist", "rootDir": "src", "strict": true, "skipLibCheck": true, "types": ["node"] }, "include": ["src"] }\n';
const MAIN_TS =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the app's own source, kept as a string
  '// A fresh app on the packed prisma-split: its own schema, a password function and an ssl\n// object per node, PgBouncer in front (URLs from the environment), pino logs, OTel spans.\nimport { readFileSync } from "node:fs";\nimport { createInterface } from "node:readline";\nimport { context, trace } from "@opentelemetry/api";\nimport { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";\nimport { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";\nimport pino from "pino";\nimport { createDb } from "prisma-split";\nimport { PrismaClient } from "./generated/prisma/client.js";\n\nconst exporter = new InMemorySpanExporter();\ncontext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());\ntrace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));\n\nlet tokens = 0;\nconst db = createDb({\n  PrismaClient,\n  logger: pino({ base: undefined }),\n  breaker: { volumeThreshold: 1, consecutiveFailures: 2, resetTimeout: 500 },\n  shutdown: false,\n  pool: ({ name }) => ({\n    ssl: { ca: readFileSync(process.env.APP_CA_FILE as string, "utf8") }, // verify PgBouncer\'s certificate\n    password: async () => {\n      tokens += 1; // an IAM token would be fetched here\n      return process.env.APP_SECRET as string;\n    },\n    application_name: `fresh-app/${name}`,\n  }),\n});\n\nconst tracer = trace.getTracer("fresh-app");\nasync function request(label: string): Promise<string> {\n  return tracer.startActiveSpan(label, async (span) => {\n    try {\n      await db.note.create({ data: { text: label } });\n      const [server] = await db.server.findMany();\n      return `ok (read answered by port ${server?.port}, standby=${server?.standby})`;\n    } catch (error) {\n      return `${(error as Error).name}: ${(error as Error).message.split("\\n")[0]}`;\n    } finally {\n      span.end();\n    }\n  });\n}\n\n// The runner drives it line by line on stdin: "request <label>" or "end".\nconst lines = createInterface({ input: process.stdin });\nfor await (const line of lines) {\n  if (line === "end") break;\n  console.error(`[app] ${line}: ${await request(line)}`);\n}\nlines.close();\nprocess.stdin.destroy(); // nothing of ours keeps the process alive once stdin is let go\nawait db.$disconnect();\nconsole.error(`[app] password function called ${tokens} times`);\nconst spans = exporter.getFinishedSpans().filter((s) => s.attributes["prisma_split.node"] !== undefined);\nfor (const s of spans.slice(0, 4).concat(spans.filter((s) => s.status.code === 2).slice(0, 2))) {\n  console.error(`[span] ${s.name} ${JSON.stringify(s.attributes)} status=${JSON.stringify(s.status)}`);\n}\nconsole.error(`[app] ${spans.length} prisma-split spans in all`);\n';

const repo = fileURLToPath(new URL("..", import.meta.url));
const version = (name: string) =>
  (JSON.parse(readFileSync(path.join(repo, "node_modules", name, "package.json"), "utf8")) as { version: string })
    .version;
const run = (file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(file, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });

const root = mkdtempSync(path.join(os.tmpdir(), "prisma-split-fresh-app-"));
const appDir = path.join(root, "app");
mkdirSync(path.join(appDir, "prisma/migrations/0001_init"), { recursive: true });
mkdirSync(path.join(appDir, "src"), { recursive: true });
const tarball = run("npm", ["pack", "--ignore-scripts", "--pack-destination", root], repo)
  .trim()
  .split("\n")
  .at(-1) as string;
console.log(`packed ${tarball}; the app is in ${appDir}`);
const dependencies = Object.fromEntries(
  [
    "@prisma/client",
    "@prisma/adapter-pg",
    "pino",
    "@opentelemetry/api",
    "@opentelemetry/sdk-trace-base",
    "@opentelemetry/context-async-hooks",
  ].map((n) => [n, version(n)]),
);
const devDependencies = Object.fromEntries(["prisma", "typescript", "@types/node"].map((n) => [n, version(n)]));
writeFileSync(
  path.join(appDir, "package.json"),
  JSON.stringify(
    {
      name: "fresh-app",
      private: true,
      type: "module",
      dependencies: { "prisma-split": `file:../${tarball}`, ...dependencies },
      devDependencies,
    },
    null,
    2,
  ),
);
writeFileSync(path.join(appDir, "prisma/schema.prisma"), SCHEMA);
writeFileSync(path.join(appDir, "prisma/migrations/0001_init/migration.sql"), MIGRATION);
writeFileSync(path.join(appDir, "tsconfig.json"), TSCONFIG);
writeFileSync(path.join(appDir, "src/main.ts"), MAIN_TS);
run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], appDir);
run(process.execPath, [path.join(appDir, "node_modules/prisma/build/index.js"), "generate"], appDir, {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
  CHECKPOINT_DISABLE: "1",
});
run(process.execPath, [path.join(appDir, "node_modules/typescript/bin/tsc"), "-p", "."], appDir);

const secret = "fresh-app-s3cret";
const cluster = await startCluster({ replicas: 1, migrate: false });
await createPasswordRole(cluster, "fresh_app", secret);
console.log(
  `applied: ${(await applyMigrations(cluster.primaryUrl, path.join(appDir, "prisma/migrations"))).join(", ")}`,
);
await cluster.waitForReplicas();
const tls = path.join(root, "tls");
mkdirSync(tls);
writeSelfSignedCertificate(tls);
const bouncer = await startPgBouncer(
  cluster,
  { fresh_app: secret },
  {
    tls: { certFile: `${tls}/cert.pem`, keyFile: `${tls}/key.pem` },
    settings: { query_wait_timeout: "2", server_login_retry: "1" },
  },
);
const env = {
  ...process.env,
  DATABASE_URL: bouncer.url("primary", "fresh_app"),
  DATABASE_REPLICA_URLS: bouncer.url("replica-0", "fresh_app"),
  APP_CA_FILE: `${tls}/cert.pem`,
  APP_SECRET: secret,
};
console.log(
  `DATABASE_URL=${env.DATABASE_URL}\nDATABASE_REPLICA_URLS=${env.DATABASE_REPLICA_URLS}  (no password in them; PgBouncer requires TLS)`,
);
const app = spawn(process.execPath, ["dist/main.js"], { cwd: appDir, env, stdio: ["pipe", "pipe", "pipe"] });
let out = "";
app.stdout.on("data", (c: Buffer) => {
  out += c;
  process.stdout.write(`[pino] ${c}`);
});
app.stderr.on("data", (c: Buffer) => {
  out += c;
  process.stdout.write(c);
});
const exited = new Promise((r) => app.on("exit", r));
const until = async (text: string, send: () => void, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!out.includes(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${text}`);
    send();
    await new Promise((r) => setTimeout(r, 300));
  }
};
let n = 0;
const req = () => app.stdin.write(`request ${++n}\n`);
await until(": ok", req);
await new Promise((r) => setTimeout(r, 1500)); // the replica monitor admits the replica
req();
await until(`request ${n}: ok`, () => {});
console.log(">>> killing the primary");
await cluster.primary.kill();
await until("circuit breaker open", req);
for (let i = 0; i < 5; i++) req();
await new Promise((r) => setTimeout(r, 1000));
console.log(">>> starting the primary again");
await cluster.primary.start();
await until("circuit breaker closed", req);
app.stdin.write("end\n");
await exited;
console.log(">>> app exited; stopping PgBouncer and the cluster");
app.stdin.destroy();
await bouncer.stop();
await cluster.stop();
rmSync(root, { recursive: true, force: true });
console.log(">>> done");

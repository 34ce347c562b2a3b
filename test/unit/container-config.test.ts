import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  postgresCommand,
  primaryConninfo,
  primaryEnvironment,
  replicaStartScript,
  replicationHbaScript,
  shellQuote,
} from "../../src/dev-cluster/testcontainers/container-config.ts";
import { isNoContainerRuntime, loadTestcontainers } from "../../src/dev-cluster/testcontainers/load-testcontainers.ts";

/**
 * The testcontainers backend cannot start here (no Docker engine). What it hands to Docker can be
 * checked: the settings, and the scripts, run by bash against stand-ins for pg_basebackup and postgres.
 */
const scratch = mkdtempSync(path.join(os.tmpdir(), "prisma-split-container-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A directory with executables that log their arguments, one per line, to `<dir>/<name>.calls`. */
function standIns(names: Record<string, string>): string {
  const bin = mkdtempSync(path.join(scratch, "bin-"));
  for (const [name, body] of Object.entries(names)) {
    const file = path.join(bin, name);
    writeFileSync(file, `#!/bin/bash\nprintf '%s\\n' "$@" > "${bin}/${name}.calls"\n${body}\n`);
    chmodSync(file, 0o755);
  }
  return bin;
}

function runBash(script: string, env: Record<string, string>): string {
  return execFileSync("bash", ["-c", script], { encoding: "utf8", env: { ...env, PATH: `${env.PATH}:/usr/bin:/bin` } });
}

describe("container settings", () => {
  it("runs postgres with the embedded cluster's replication settings, open to the Docker network", () => {
    const command = postgresCommand();
    expect(command[0]).toBe("postgres");
    const settings = Object.fromEntries(
      command
        .slice(1)
        .filter((_, i) => i % 2 === 1)
        .map((pair) => pair.split("=", 2) as [string, string]),
    );
    expect(
      command
        .slice(1)
        .filter((_, i) => i % 2 === 0)
        .every((flag) => flag === "-c"),
    ).toBe(true);
    expect(settings).toMatchObject({
      listen_addresses: "*",
      wal_level: "replica",
      hot_standby: "on",
      wal_keep_size: "512MB",
      synchronous_commit: "on",
    });
    expect(Number(settings.max_wal_senders)).toBeGreaterThanOrEqual(3 * 8);
  });

  it("creates the database with trust authentication", () => {
    expect(primaryEnvironment("app")).toEqual({
      POSTGRES_USER: "postgres",
      POSTGRES_DB: "app",
      POSTGRES_HOST_AUTH_METHOD: "trust",
    });
  });

  it("the primary's init script adds a pg_hba rule for replication connections", () => {
    const pgdata = mkdtempSync(path.join(scratch, "primary-"));
    writeFileSync(path.join(pgdata, "pg_hba.conf"), "host all all all trust\n");
    runBash(replicationHbaScript, { PGDATA: pgdata, PATH: "" });
    expect(readFileSync(path.join(pgdata, "pg_hba.conf"), "utf8")).toBe(
      "host all all all trust\nhost replication all all trust\n",
    );
  });

  it("shellQuote survives single quotes", () => {
    expect(runBash(`printf %s ${shellQuote("it's a 'test' $HOME")}`, { PATH: "" })).toBe("it's a 'test' $HOME");
  });
});

describe("the replica's start script", () => {
  const pgBasebackup = `
pgdata=""; for arg in "$@"; do case "$arg" in --pgdata=*) pgdata="\${arg#--pgdata=}";; esac; done
mkdir -p -m 0777 "$pgdata"; echo 18 > "$pgdata/PG_VERSION"; echo "primary_conninfo = 'from -R'" > "$pgdata/postgresql.auto.conf"`;

  it("first start: a base backup of the primary with -R, named after the replica, then postgres in the foreground", () => {
    const bin = standIns({ pg_basebackup: pgBasebackup, postgres: "echo postgres-ran" });
    const pgdata = path.join(scratch, "replica1-data");
    const output = runBash(replicaStartScript("replica1"), { PGDATA: pgdata, PATH: bin });

    expect(readFileSync(path.join(bin, "pg_basebackup.calls"), "utf8").trim().split("\n")).toEqual([
      `--pgdata=${pgdata}`,
      "--write-recovery-conf",
      "--wal-method=stream",
      "--checkpoint=fast",
      "--no-sync",
      "--dbname=host=primary port=5432 user=postgres application_name=replica1",
    ]);
    // Ours is the last primary_conninfo, so it is the one the server uses.
    expect(readFileSync(path.join(pgdata, "postgresql.auto.conf"), "utf8")).toBe(
      `primary_conninfo = 'from -R'\nprimary_conninfo = '${primaryConninfo("replica1")}'\n`,
    );
    expect(readFileSync(path.join(bin, "postgres.calls"), "utf8").trim().split("\n")).toEqual(
      postgresCommand().slice(1),
    );
    expect(statSync(pgdata).mode & 0o777).toBe(0o700);
    expect(output).toBe("postgres-ran\n");
  });

  it("later starts (after a stop or a kill): no new base backup, just postgres on the existing data", () => {
    const bin = standIns({ pg_basebackup: "exit 99", postgres: "echo postgres-ran" });
    const pgdata = mkdtempSync(path.join(scratch, "replica2-data-"));
    writeFileSync(path.join(pgdata, "PG_VERSION"), "18\n");
    expect(runBash(replicaStartScript("replica2"), { PGDATA: pgdata, PATH: bin })).toBe("postgres-ran\n");
    expect(() => readFileSync(path.join(bin, "pg_basebackup.calls"))).toThrow();
  });

  it("a failed base backup stops the script before postgres runs (the control)", () => {
    const bin = standIns({ pg_basebackup: "exit 1", postgres: "echo postgres-ran" });
    const pgdata = path.join(scratch, "replica3-data");
    mkdirSync(pgdata);
    expect(() => runBash(replicaStartScript("replica3"), { PGDATA: pgdata, PATH: bin })).toThrow();
    expect(() => readFileSync(path.join(bin, "postgres.calls"))).toThrow();
  });
});

describe("loading testcontainers", () => {
  it("is lazy and yields the API the backend uses (no Docker engine needed to load it)", async () => {
    const tc = await loadTestcontainers();
    for (const name of ["GenericContainer", "Network", "getContainerRuntimeClient"] as const) {
      expect(typeof tc[name]).toBe("function");
    }
    expect(typeof tc.Wait.forLogMessage).toBe("function");
  });

  it("recognises testcontainers' message for a missing Docker engine", () => {
    expect(isNoContainerRuntime(new Error("Could not find a working container runtime strategy"))).toBe(true);
    expect(isNoContainerRuntime(new Error("connect ECONNREFUSED"))).toBe(false);
  });
});

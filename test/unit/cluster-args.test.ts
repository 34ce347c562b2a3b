import { describe, expect, it } from "vitest";
import { defaultClusterPort, parseClusterArgs } from "../../src/cli/cluster-args.ts";
import { envLines, statusLines } from "../../src/cli/cluster-report.ts";

describe("cluster command arguments", () => {
  it("defaults: one replica, the stable port, backend from TEST_CLUSTER/embedded, migrations if present", () => {
    expect(parseClusterArgs(["up"])).toEqual({
      kind: "up",
      args: { replicas: 1, port: defaultClusterPort, backend: undefined, migrate: true, migrationsDir: undefined },
    });
  });

  it("reads every option; --port 0 means any free ports", () => {
    expect(
      parseClusterArgs(["up", "--replicas", "2", "--port", "0", "--backend", "testcontainers", "--migrations", "db/m"]),
    ).toEqual({
      kind: "up",
      args: { replicas: 2, port: undefined, backend: "testcontainers", migrate: true, migrationsDir: "db/m" },
    });
    expect(parseClusterArgs(["up", "--no-migrate", "--port=6000"])).toMatchObject({
      args: { migrate: false, port: 6000 },
    });
  });

  it("stop|start|kill <node> and status address the cluster on --port (default: the one running, found later)", () => {
    expect(parseClusterArgs(["kill", "replica-0"])).toEqual({
      kind: "control",
      action: "kill",
      node: "replica-0",
      port: undefined,
    });
    expect(parseClusterArgs(["--port", "6000", "status"])).toEqual({
      kind: "control",
      action: "status",
      node: undefined,
      port: 6000,
    });
  });

  it("--help and -h win over everything else", () => {
    expect(parseClusterArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseClusterArgs(["up", "-h", "--replicas", "x"])).toEqual({ kind: "help" });
  });

  it.each([
    [[], "got no subcommand."],
    [["down"], 'expected `cluster up`, `cluster stop|start|kill <node>` or `cluster status`, got "down".'],
    [["stop"], "`cluster stop` takes one node name, e.g. replica-0."],
    [["kill", "replica-0", "replica-1"], "`cluster kill` takes one node name"],
    [["status", "primary"], "`cluster status` takes no node name."],
    [["start", "replica-0", "--replicas", "2"], "--replicas and --backend belong to `cluster up`"],
    [["up", "now"], "unexpected argument: now."],
    [["up", "--replicas", "two"], '--replicas must be a whole number, got "two".'],
    [["up", "--replicas", "-1"], "--replicas"],
    [["up", "--replicas=-1"], '--replicas must be a whole number, got "-1".'],
    [["up", "--port", "5432.5"], '--port must be a whole number, got "5432.5".'],
    [["up", "--backend", "docker"], '--backend must be one of embedded, testcontainers, got "docker".'],
    [["up", "--no-migrate", "--migrations", "m"], "--migrations and --no-migrate contradict each other."],
    [["up", "--replica", "2"], "--replica"],
  ])("%j is a usage error naming what is wrong", (argv, message) => {
    const parsed = parseClusterArgs(argv);
    expect(parsed.kind).toBe("usage-error");
    expect(parsed.kind === "usage-error" && parsed.message).toContain(message);
  });
});

describe("cluster command output", () => {
  it("prints exactly the two variables createDb() reads", () => {
    expect(envLines("postgresql://postgres@127.0.0.1:55432/app", ["r1", "r2"])).toEqual([
      "DATABASE_URL=postgresql://postgres@127.0.0.1:55432/app",
      "DATABASE_REPLICA_URLS=r1,r2",
    ]);
    expect(envLines("p", [])).toEqual(["DATABASE_URL=p", "DATABASE_REPLICA_URLS="]);
  });

  it("a status line per node, and what happened to the migrations", () => {
    const nodes = [
      { name: "primary", url: "postgresql://postgres@127.0.0.1:55432/app" },
      { name: "replica-0", url: "postgresql://postgres@127.0.0.1:55433/app", replication: "streaming" },
    ];
    const base = { backend: "embedded" as const, serverVersion: "18.4", nodes, cwd: "/app" };
    expect(
      statusLines({ ...base, migrations: { dir: "/app/prisma/migrations", applied: ["0001_init", "0002_posts"] } }),
    ).toEqual([
      "prisma-split dev cluster (embedded): PostgreSQL 18.4, a primary and 1 streaming replica",
      "  primary    127.0.0.1:55432  read-write",
      "  replica-0  127.0.0.1:55433  streaming",
      "  migrations: 2 applied from prisma/migrations (0001_init, 0002_posts)",
    ]);
    expect(statusLines({ ...base, migrations: undefined }).at(-1)).toBe(
      "  migrations: none applied (no ./prisma/migrations, or --no-migrate)",
    );
    expect(statusLines({ ...base, migrations: { dir: "/app/prisma/migrations", applied: [] } }).at(-1)).toBe(
      "  migrations: none found in prisma/migrations",
    );
  });
});

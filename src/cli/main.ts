import { parseArgs } from "node:util";
import { DEFAULTS } from "../config/defaults.js";
import { isConfigurationError } from "../errors.js";
import { clusterOptions } from "./cluster-args.js";
import { runClusterCommand } from "./cluster-command.js";
import { runDoctor } from "./doctor.js";
import { loadEnvironment } from "./env-file.js";
import { formatReport } from "./format-report.js";
import { packageVersion } from "./version.js";

const EXIT_CODES = `Exit codes:
  0  all is well: doctor found no problem, \`cluster up\` stopped cleanly, a cluster command was done
  1  a problem: doctor found one (unreachable node, wrong role, lag, pool budget), or the command failed
  2  a usage or configuration error: unknown option, bad value, a missing --env-file, a bad URL`;

const COMMON_OPTIONS = `Options of every command, before or after it:
  --env-file <path>  load environment variables from <path> first (default: ./.env, if there is one);
                     a variable already set in the environment keeps its value
  -v, --version      print prisma-split's version
  -h, --help         show this help, or a command's`;

const COMMANDS = `Usage: prisma-split <command> [options]

Commands:
  doctor                         check the primary and replicas createDb() would use: roles,
                                 versions, latency, replication lag, connection budget
  cluster up                     a local primary + streaming replicas for development, until Ctrl-C
  cluster stop|start|kill <node> stop, start or crash one node of the running \`cluster up\`
  cluster status                 each node's port, PID and data directory

prisma-split <command> --help shows a command's options.

${COMMON_OPTIONS}

${EXIT_CODES}`;

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
  --json                  print the report as JSON

${COMMON_OPTIONS}

${EXIT_CODES}`;

const doctorOptions = {
  "primary-url": { type: "string" },
  "replica-urls": { type: "string" },
  instances: { type: "string" },
  reserved: { type: "string" },
  "max-lag-ms": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  "env-file": { type: "string" },
  version: { type: "boolean", short: "v", default: false },
} as const;

interface Writable {
  write(text: string): unknown;
}

/**
 * Runs the CLI; resolves with the exit code (the caller sets it, so that stdout is flushed first).
 * Options may come before or after the command; `.env` in `cwd` (or `--env-file`) is loaded first.
 */
export async function main(
  argv: readonly string[],
  out: Writable = process.stdout,
  err: Writable = process.stderr,
  cwd = process.cwd(),
): Promise<number> {
  const { command, rest, envFile, help, version } = scan(argv);
  if (version) {
    out.write(`${packageVersion()}\n`);
    return 0;
  }
  if (!help) {
    try {
      loadEnvironment(envFile, cwd);
    } catch (error) {
      err.write(`prisma-split: --env-file ${envFile}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  if (command === "cluster") return runClusterCommand(rest);
  if (command === undefined) {
    (help ? out : err).write(`${COMMANDS}\n`);
    return help ? 0 : 2;
  }
  if (command !== "doctor") {
    err.write(`Unknown command: ${command}\n\n${COMMANDS}\n`);
    return 2;
  }
  return doctor(rest, out, err);
}

async function doctor(argv: readonly string[], out: Writable, err: Writable): Promise<number> {
  let parsed: ReturnType<typeof parseDoctor>;
  try {
    parsed = parseDoctor(argv);
  } catch (error) {
    err.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    err.write(`Unknown command: doctor ${positionals.join(" ")}\n\n${COMMANDS}\n`);
    return 2;
  }
  try {
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
    const usage = isConfigurationError(error) || error instanceof RangeError || error instanceof UsageError;
    err.write(`prisma-split doctor: ${(error as Error).message}\n`);
    return usage ? 2 : 1;
  }
}

/**
 * Finds the command word wherever the options are (`prisma-split --env-file x doctor --json`),
 * knowing every command's options so that an option's value is not taken for it, and reads the
 * options every command shares. `rest` is `argv` without the command word.
 */
function scan(argv: readonly string[]): {
  command: string | undefined;
  rest: string[];
  envFile: string | undefined;
  help: boolean;
  version: boolean;
} {
  const { values, tokens } = parseArgs({
    args: [...argv],
    options: { ...clusterOptions, ...doctorOptions },
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const word = tokens.find((token) => token.kind === "positional");
  const rest = word === undefined ? [...argv] : argv.filter((_, index) => index !== word.index);
  const envFile = typeof values["env-file"] === "string" ? values["env-file"] : undefined;
  return { command: word?.value, rest, envFile, help: values.help === true, version: values.version === true };
}

function parseDoctor(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, options: doctorOptions });
}

class UsageError extends Error {}

function number(value: string, flag: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return parsed;
}

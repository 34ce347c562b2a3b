import { parseArgs } from "node:util";

export interface CliOptions {
  /** Scenario names to run; empty = all. */
  readonly only: readonly string[];
  readonly quick: boolean;
  /** Rounds override; default 10 (3 with --quick). */
  readonly rounds: number | undefined;
  /** Where the JSON goes; default bench/results/latest.json. */
  readonly out: string | undefined;
  readonly help: boolean;
}

export const USAGE = `npm run bench -- [--only point-read,write] [--quick] [--rounds N] [--out file.json]

  --only     scenarios to run (comma-separated or repeated): point-read, routing-layer, find-many,
             write, memory, fail-fast, replica-killed
  --quick    fewer rounds and operations: a smoke run, numbers are noisier
  --rounds   rounds of the interleaved cases (default 10, 3 with --quick)
  --out      JSON output (default bench/results/latest.json)`;

export function parseCliOptions(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) {
    throw new RangeError(`--rounds must be a positive integer, got "${values.rounds}"`);
  }
  return {
    only: (values.only ?? [])
      .flatMap((value) => value.split(","))
      .map((name) => name.trim())
      .filter(Boolean),
    quick: values.quick ?? false,
    rounds,
    out: values.out,
    help: values.help ?? false,
  };
}

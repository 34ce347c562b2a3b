import { parseArgs } from "node:util";

export interface CliOptions {
  /** Scenario names to run; empty = all. */
  readonly only: readonly string[];
  readonly quick: boolean;
  /** Rounds override; default 10 (3 with --quick). */
  readonly rounds: number | undefined;
  /** Where the JSON goes; default bench/results/latest.json. */
  readonly out: string | undefined;
  /** A git ref whose prisma-split is built and measured next to this checkout's (`lib/baseline.ts`). */
  readonly baseline: string | undefined;
  readonly help: boolean;
}

export const USAGE = `npm run bench -- [--only point-read,write] [--quick] [--rounds N] [--out file.json]

  --only     scenarios to run (comma-separated or repeated): point-read, routing-layer, find-many,
             write, memory, fail-fast, replica-killed
  --quick    fewer rounds and operations: a smoke run, numbers are noisier
  --rounds   rounds of the interleaved cases (default 10, 3 with --quick)
  --out      JSON output (default bench/results/latest.json)
  --baseline also build prisma-split at this git ref (commit, branch, tag) in a temporary checkout
             and measure it as "prisma-split @<commit>" next to this checkout's, in the same
             rounds (point-read, routing-layer, find-many, write)`;

export function parseCliOptions(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      out: { type: "string" },
      baseline: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) {
    throw new RangeError(`--rounds must be a positive integer, got "${values.rounds}"`);
  }
  if (values.baseline !== undefined && values.baseline.trim() === "") {
    throw new RangeError("--baseline needs a git ref (a commit, branch or tag)");
  }
  return {
    only: (values.only ?? [])
      .flatMap((value) => value.split(","))
      .map((name) => name.trim())
      .filter(Boolean),
    quick: values.quick ?? false,
    rounds,
    out: values.out,
    baseline: values.baseline,
    help: values.help ?? false,
  };
}

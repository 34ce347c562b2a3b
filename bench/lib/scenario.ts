import type { Cluster } from "../../test/cluster/index.ts";
import type { ContenderSpec } from "./contenders.ts";

/** How much work one run does; `--quick` shrinks it for a smoke run. */
export interface BenchSettings {
  readonly quick: boolean;
  /** Rounds of the interleaved throughput cases (each contender measured once per round). */
  readonly rounds: number;
}

/** What a scenario gets from the runner. */
export interface ScenarioContext {
  readonly cluster: Cluster;
  readonly settings: BenchSettings;
  /** Progress on stderr, so stdout keeps only the tables. */
  log(message: string): void;
}

/** One column of a result table; `format` only shapes the printed table, JSON keeps the raw value. */
export interface Column {
  readonly key: string;
  readonly header: string;
  readonly format?: (value: CellValue) => string;
  readonly align?: "left" | "right";
  /** Printed only where it changes from the row above (the case name of a group of rows). */
  readonly group?: boolean;
}

export type CellValue = number | string | boolean | null;
export type Row = Readonly<Record<string, CellValue>>;

export interface ResultTable {
  readonly title: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Row[];
}

export interface ScenarioResult {
  readonly tables: readonly ResultTable[];
  /** What the numbers mean or do not mean (printed under the tables, kept in the JSON). */
  readonly notes: readonly string[];
  /** Per-round samples and anything else worth keeping for a later look; JSON only. */
  readonly raw?: unknown;
}

/**
 * One benchmark scenario: a module under `bench/scenarios/` exporting it as default. The runner
 * starts the cluster once and runs the selected scenarios in the order of `scenarios/index.ts`.
 */
export interface Scenario {
  /** The `--only` key, e.g. `point-read`. */
  readonly name: string;
  readonly title: string;
  /** `run` reads them from `this.contenders`: the runner hands it a copy with the `--baseline` one added. */
  readonly contenders: readonly ContenderSpec[];
  /**
   * The prisma-split contender that `--baseline <ref>` adds that ref's build of, with the same
   * createDb() options, right after it. Unset: no baseline row (the runner adds a note saying so).
   */
  readonly baselineFor?: ContenderSpec;
  /** It stops or kills a node (it restores it before returning): runs after the others. */
  readonly disruptive?: boolean;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

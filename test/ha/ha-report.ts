import type { Sample } from "../integration/chaos/load.ts";

/** What one set-up went through during one event. */
export interface SetupRun {
  readonly setup: string;
  readonly event: string;
  readonly samples: readonly Sample[];
  readonly acknowledged: readonly string[];
  /** Posts per title found on the leader afterwards. */
  readonly counts: ReadonlyMap<string, number>;
  /** ms from the database taking writes again (a member, directly) to the first acknowledged write. */
  readonly afterDatabaseMs: number | undefined;
  /**
   * ms from the set-up's endpoint (HAProxy's primary port; the members) first taking writes again,
   * and from it taking them steadily (see WriterWatch.resumedAt), to the first acknowledged write.
   */
  readonly afterEndpointMs: number | undefined;
  readonly afterSteadyEndpointMs: number | undefined;
  /** prisma-split's events during the run, ms after the fault. */
  readonly timeline: readonly string[];
}

const failed = (samples: readonly Sample[], kind: Sample["kind"]) =>
  samples.filter((sample) => sample.kind === kind && sample.outcome !== "ok");

export function lost(run: SetupRun): string[] {
  return run.acknowledged.filter((title) => !run.counts.has(title));
}

/** Titles found more than once, acknowledged or not: no write may run twice. */
export function doubled(run: SetupRun): string[] {
  return [...run.counts].filter(([, n]) => n > 1).map(([title]) => title);
}

export function failedReads(run: SetupRun): Sample[] {
  return failed(run.samples, "read");
}

/** `reason/outcome ×n` of every 503, reads and writes apart. */
export function unavailableTally(samples: readonly Sample[]): string {
  const tally = new Map<string, number>();
  for (const sample of samples) {
    if (sample.outcome !== "503") continue;
    const key = `${sample.kind} ${sample.detail}/${sample.applied ?? "no outcome"}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  return [...tally].map(([key, n]) => `${key} ×${n}`).join(", ") || "none";
}

const ms = (value: number | undefined) => (value === undefined ? "-" : `${Math.round(value)}`);

/** The suite's table: one row per event and set-up. */
export function formatHaTable(runs: readonly SetupRun[]): string {
  const header = [
    "event",
    "set-up",
    "acked",
    "lost",
    "doubled",
    "503s (kind reason/outcome ×n)",
    "other errors",
    "failed reads",
    "first write after: db (ms)",
    "endpoint (ms)",
    "endpoint steady (ms)",
  ];
  const lines = runs.map((run) => [
    run.event,
    run.setup,
    String(run.acknowledged.length),
    String(lost(run).length),
    String(doubled(run).length),
    unavailableTally(run.samples),
    String(run.samples.filter((sample) => sample.outcome === "other").length),
    String(failedReads(run).length),
    ms(run.afterDatabaseMs),
    ms(run.afterEndpointMs),
    ms(run.afterSteadyEndpointMs),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: readonly string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [format(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...lines.map(format)].join(
    "\n",
  );
}

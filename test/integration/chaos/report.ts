import type { LiveDurability } from "./checks.ts";
import type { Sample } from "./load.ts";

export interface ScenarioRow extends LiveDurability {
  readonly scenario: string;
  readonly samples: readonly Sample[];
  /** Acknowledged writes found exactly once on the primary after `$disconnect()`, of those acknowledged. */
  readonly exactlyOnce: number;
  readonly acknowledged: number;
  readonly leftovers: string;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const count = (samples: readonly Sample[], test: (sample: Sample) => boolean) => samples.filter(test).length;

/** The chaos suite's table: one row per scenario. */
export function formatTable(rows: readonly ScenarioRow[]): string {
  const header = [
    "scenario",
    "requests",
    "ok",
    "503",
    "other err",
    "reads failed",
    "p50 ms",
    "p99 ms",
    "max ms",
    "503 p50 ms",
    "acked writes once",
    "open tx",
    "leftovers",
  ];
  const lines = rows.map((row) => {
    const s = row.samples;
    const unavailable = s.filter((sample) => sample.outcome === "503").map((sample) => sample.ms);
    const all = s.map((sample) => sample.ms);
    return [
      row.scenario,
      String(s.length),
      String(count(s, (x) => x.outcome === "ok")),
      String(unavailable.length),
      String(count(s, (x) => x.outcome === "other")),
      String(count(s, (x) => x.kind === "read" && x.outcome !== "ok")),
      percentile(all, 50).toFixed(1),
      percentile(all, 99).toFixed(1),
      Math.max(...all).toFixed(0),
      unavailable.length === 0 ? "-" : percentile(unavailable, 50).toFixed(1),
      `${row.exactlyOnce}/${row.acknowledged}`,
      String(row.openTransactions),
      row.leftovers,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(" | ")} |`;
  return [format(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...lines.map(format)].join(
    "\n",
  );
}

/** 503 reasons and other errors, for the log under the table. */
export function describeFailures(samples: readonly Sample[]): string {
  const tally = new Map<string, number>();
  for (const sample of samples) {
    if (sample.outcome === "ok") continue;
    const why = sample.outcome === "503" ? `${sample.detail} (${sample.message?.split(": ").at(-1)})` : sample.detail;
    const key = `${sample.kind} ${sample.outcome} ${why?.split("\n").find((line) => line.trim() !== "") ?? ""}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  return [...tally].map(([key, n]) => `${n} × ${key}`).join("; ") || "none";
}

import { isOk, type Sample } from "./load.ts";

/** Columns of numbers right-aligned, others left-aligned; a rule under the header. */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<readonly (string | number)[]>,
  indent = "    ",
): string {
  const body = rows.map((row) => row.map(String));
  const cells = [[...header], ...body];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  const numeric = header.map((_, column) => body.every((row) => /^\d*$/.test(row[column] ?? "")));
  const line = (row: readonly string[]) =>
    indent +
    row
      .map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("   ");
  const rule = indent + widths.map((width) => "-".repeat(width)).join("   ");
  return [line(cells[0]!), rule, ...body.map(line)].map((text) => text.trimEnd()).join("\n");
}

/** How many answered requests each node served (from `x-served-by`), reads and writes apart. */
export function servedByNode(samples: readonly Sample[], nodes: readonly string[]): Array<[string, number, number]> {
  return nodes.map((node) => [
    node,
    samples.filter((s) => s.kind === "read" && isOk(s) && servedBy(s).includes(node)).length,
    samples.filter((s) => s.kind === "write" && isOk(s) && servedBy(s).includes(node)).length,
  ]);
}

function servedBy(sample: Sample): string[] {
  return (sample.servedBy ?? "").split(", ");
}

/** Requests of `kind` that got no 2xx, with what they got instead: "0", or "3 (503 breaker-open ×2, no answer ×1)". */
export function failures(samples: readonly Sample[], kind: Sample["kind"]): string {
  const failed = samples.filter((s) => s.kind === kind && !isOk(s));
  return failed.length === 0 ? "0" : `${failed.length} (${outcomes(failed)})`;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

export function seconds(valueMs: number): string {
  return `${(valueMs / 1000).toFixed(1)} s`;
}

/** "a ×3, b ×1" of the values, in first-seen order. */
export function tally(values: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts.size === 0 ? "none" : [...counts].map(([value, n]) => `${value} ×${n}`).join(", ");
}

/** What each request got: "201 ×3, 503 shutting-down ×1, no answer ×4". */
export function outcomes(samples: readonly Sample[]): string {
  return tally(
    samples.map((s) =>
      s.status === 0 ? "no answer" : s.status === 503 ? `503 ${s.reason ?? ""}`.trim() : String(s.status),
    ),
  );
}

/** "3-5" or "5" of whole numbers. */
export function range(values: readonly number[]): string {
  if (values.length === 0) return "-";
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? String(low) : `${low}-${high}`;
}

import type { CellValue, ResultTable } from "./scenario.ts";

/** A result table as aligned plain text (fits a terminal and a Markdown code block). */
export function renderTable(table: ResultTable): string {
  const { columns, rows } = table;
  const cells = rows.map((row, index) =>
    columns.map((column) => {
      const value = row[column.key] ?? null;
      if (column.group && index > 0 && rows[index - 1]?.[column.key] === value) return "";
      return column.format ? column.format(value) : plain(value);
    }),
  );
  const widths = columns.map((column, c) =>
    Math.max(column.header.length, ...cells.map((line) => line[c]?.length ?? 0)),
  );
  const pad = (text: string, c: number) => {
    const width = widths[c] as number;
    return (columns[c]?.align ?? "right") === "left" ? text.padEnd(width) : text.padStart(width);
  };
  const lines = [
    columns.map((column, c) => pad(column.header, c)).join("  "),
    widths.map((width) => "-".repeat(width)).join("  "),
    ...cells.map((line) => line.map((text, c) => pad(text, c)).join("  ")),
  ];
  return `${table.title}\n${lines.map((line) => line.trimEnd()).join("\n")}`;
}

function plain(value: CellValue): string {
  if (value === null) return "—";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "—";
  return String(value);
}

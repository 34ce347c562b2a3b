/** `12,345`; `—` for anything that is not a finite number (a case that could not be measured). */
export function formatInteger(value: unknown): string {
  return typeof value === "number" && Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "—";
}

/** `1.034`; `—` for anything that is not a finite number. */
export function formatFixed(value: unknown, digits: number): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "—";
}

/** Bytes as MB with two decimals, signed when `signed` (a growth). */
export function formatMegabytes(value: unknown, signed = false): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  const text = (value / 1024 / 1024).toFixed(2);
  return signed && value >= 0 ? `+${text}` : text;
}

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

/**
 * The rounding step a spread allows: the decade of its width (an IQR of 0.97–1.24 allows 0.1,
 * one of 11,900–13,100 allows 1,000). A figure quoted finer than that claims a precision the
 * rounds do not have. `fallback` when there is no spread (one round, all equal).
 */
export function stepFor(q1: number, q3: number, fallback: number): number {
  const width = Math.abs(q3 - q1);
  if (!Number.isFinite(width) || width === 0) return fallback;
  return 10 ** Math.floor(Math.log10(width));
}

/** `value` rounded to `step`, with as many decimals as the step has (thousands separated). */
export function formatToStep(value: unknown, step: number): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const rounded = Math.round(value / step) * step;
  return rounded.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * A median with its interquartile range, each to the digits the IQR allows: the median to the
 * decade of the IQR's width, the quartiles one digit finer. `1.1 (0.97–1.24)`.
 */
export function formatSpread(median: unknown, q1: number, q3: number, fallbackStep = 0.001): string {
  const step = stepFor(q1, q3, fallbackStep);
  // No spread (the reference row, a single round): the quartiles need no finer digit either.
  const quartileStep = q3 === q1 ? step : step / 10;
  return `${formatToStep(median, step)} (${formatToStep(q1, quartileStep)}–${formatToStep(q3, quartileStep)})`;
}

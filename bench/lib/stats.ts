/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** First and third quartiles (medians of the lower and upper halves). */
export function quartiles(values: ArrayLike<number>): [number, number] {
  const sorted = Array.from(Float64Array.from(values).sort());
  const half = sorted.length >> 1;
  return [median(sorted.slice(0, half || 1)), median(sorted.slice(sorted.length % 2 === 1 ? half + 1 : half))];
}

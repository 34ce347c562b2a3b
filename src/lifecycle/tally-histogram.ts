import type { Registry } from "prom-client";

type Labels = Readonly<Record<string, string>>;

/** One label set's observations: a count per bucket (not cumulative) and the sum of the values. */
export class HistogramSeries {
  readonly labels: Labels;
  readonly counts: Float64Array;
  sum = 0;
  readonly #bounds: readonly number[];

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.sum += value;
  }
}

/**
 * A Prometheus histogram for the per-query path. prom-client's `Histogram.observe` validates and
 * hashes the label values on every call, a bound child included (about a microsecond per query
 * on a cold cache, measured). Here a query adds 1 to a number in its label set's own series,
 * which the caller keeps, and the exposition is built when the registry is scraped. It registers
 * itself in `registry` and reads like prom-client's own: `_bucket{le}`, `_sum`, `_count`.
 *
 * @example
 * const histogram = new TallyHistogram(registry, "app_seconds", "Latency.", [0.1, 1]);
 * histogram.series({ route: "/" }).observe(0.05);
 */
export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  /** How prom-client's cluster aggregation combines workers' values. */
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  readonly #series: HistogramSeries[] = [];

  constructor(registry: Registry, name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    registry.registerMetric(this as never);
  }

  /** A new series for `labels`; the caller keeps it (one per distinct label set). */
  series(labels: Labels): HistogramSeries {
    const series = new HistogramSeries(labels, this.#bounds);
    this.#series.push(series);
    return series;
  }

  /** What prom-client's registry reads at scrape time. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Array<{ labels: Record<string, string | number>; value: number; metricName: string; exemplar?: null }>;
  }> {
    const values = [];
    for (const series of this.#series) {
      let cumulative = 0;
      const count = series.counts.reduce((total, value) => total + value, 0);
      if (count === 0) continue;
      for (let bucket = 0; bucket <= this.#bounds.length; bucket++) {
        cumulative += series.counts[bucket] as number;
        const le = bucket < this.#bounds.length ? (this.#bounds[bucket] as number) : "+Inf";
        values.push({
          labels: { le, ...series.labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
          exemplar: null,
        });
      }
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** `registry.resetMetrics()`: every series back to zero (the callers keep theirs). */
  reset(): void {
    for (const series of this.#series) {
      series.counts.fill(0);
      series.sum = 0;
    }
  }
}

/**
 * @module metrics/scraped-metric
 * A metric whose samples are computed when the registry is scraped, from
 * numbers kept elsewhere (typed arrays, live counts). prom-client's Registry
 * formats any object with a name, help, type and an async get(); this is that
 * object, so arrays counted on the query path need no prom-client call there.
 */
import type { Metric, Registry } from 'prom-client';

export type SampleLabels = Record<string, string>;

export interface Sample {
  readonly value: number;
  readonly labels: SampleLabels;
  /** For histogram parts: name_bucket, name_sum, name_count. */
  readonly metricName?: string;
}

export type ScrapedType = 'counter' | 'gauge' | 'histogram';

export class ScrapedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: ScrapedType;
  readonly aggregator = 'sum';
  readonly #samples: () => Sample[];

  constructor(name: string, help: string, type: ScrapedType, samples: () => Sample[]) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#samples = samples;
  }

  get(): Promise<{ name: string; help: string; type: ScrapedType; aggregator: string; values: Sample[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#samples() });
  }

  /** Registry.resetMetrics() calls this; what is counted here is never reset (reloads keep it). */
  reset(): void {}
}

/** Create a scraped metric and register it in `registry`. */
export function registerScraped(registry: Registry, name: string, help: string, type: ScrapedType, samples: () => Sample[]): ScrapedMetric {
  const m = new ScrapedMetric(name, help, type, samples);
  // The registry only calls name/help/type/get/reset: a structural match for its Metric classes.
  registry.registerMetric(m as unknown as Metric);
  return m;
}

/**
 * Appends the samples of one histogram series: cumulative `_bucket`s with
 * `le`, `_sum` and `_count`. `counts` holds per-bucket (not cumulative)
 * counts from `offset`, one per bound plus +Inf.
 */
export function pushHistogram(
  out: Sample[], name: string, labels: SampleLabels, bounds: readonly number[],
  counts: Float64Array, offset: number, sum: number,
): void {
  let cumulative = 0;
  for (let i = 0; i <= bounds.length; i++) {
    cumulative += counts[offset + i]!;
    const le = i < bounds.length ? String(bounds[i]) : '+Inf';
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  }
  out.push({ metricName: `${name}_sum`, labels, value: sum });
  out.push({ metricName: `${name}_count`, labels, value: cumulative });
}

/** Total of `counts[offset .. offset+n)`. */
export function sumOf(counts: Float64Array, offset: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += counts[offset + i]!;
  return s;
}

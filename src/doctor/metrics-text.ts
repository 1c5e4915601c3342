/**
 * @module doctor/metrics-text
 * Reading a /metrics scrape (Prometheus text format) into samples, and
 * summing the series of a metric that match some labels: enough for the
 * doctor's ratios. Histograms and comments are read as their plain samples.
 */

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export function parseMetricsText(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    for (const l of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

/** Sum of `name`'s samples whose labels include `match`. */
export function sumOf(samples: readonly MetricSample[], name: string, match: Readonly<Record<string, string>> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    let ok = true;
    for (const [k, v] of Object.entries(match)) if (s.labels[k] !== v) { ok = false; break; }
    if (ok && Number.isFinite(s.value)) total += s.value;
  }
  return total;
}

export function has(samples: readonly MetricSample[], name: string): boolean {
  return samples.some((s) => s.name === name);
}

/**
 * @module bench/latency
 * Latency under a fixed, sub-saturation load: dnsperf at `-Q rate` with -v,
 * which prints every answered query with its own measured latency (µs
 * resolution), so average and percentiles (p50/p99/p99.9) come from the real
 * per-query distribution, measured by a C client on the other core, not from
 * a Node event loop that would add its own jitter.
 */

import { readFileSync, rmSync } from 'node:fs';
import { runDnsperf, type DnsperfResult } from './dnsperf.ts';

export interface LatencyResult {
  readonly targetQps: number;
  readonly achievedQps: number;
  /** Latencies parsed from the -v lines; equals `completed` when every answer was read. */
  readonly samples: number;
  /** Answers dnsperf counted (its statistics block). */
  readonly completed: number;
  readonly lost: number;
  readonly avgUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
  /** CPU seconds dnsperf used. */
  readonly clientCpuS: number;
  readonly command: string;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

/** Latencies (µs) of the `> RCODE name type seconds` lines of dnsperf -v. */
export function parseVerboseLatencies(text: string): Float64Array {
  const out: number[] = [];
  let i = 0;
  while (i < text.length) {
    let j = text.indexOf('\n', i);
    if (j < 0) j = text.length;
    if (text.charCodeAt(i) === 62 /* > */) {
      const sp = text.lastIndexOf(' ', j);
      if (sp > i) {
        const v = Number(text.slice(sp + 1, j));
        if (Number.isFinite(v)) out.push(v * 1e6);
      }
    }
    i = j + 1;
  }
  return Float64Array.from(out).sort();
}

/**
 * The run whose p99 is the median of the runs' p99s (the lower middle for an
 * even count): one run's p50/p99/p99.9 stay together, and one disturbed
 * window on a shared machine cannot set the figure. Null for no runs.
 */
export function medianByP99<T extends { readonly p99Us: number }>(runs: readonly T[]): T | null {
  if (runs.length === 0) return null;
  const sorted = [...runs].sort((a, b) => a.p99Us - b.p99Us);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}

export interface LatencyOptions {
  readonly port: number;
  readonly file: string;
  readonly rateQps: number;
  readonly durationS: number;
  readonly clients: number;
  readonly outstanding: number;
  readonly outFile: string;
  /** SCHED_FIFO priority for dnsperf (0 or absent: normal scheduling). */
  readonly rtPriority?: number;
  /** CPU to pin dnsperf to (see DnsperfOptions.cpu). */
  readonly cpu?: string | null;
}

export async function measureLatency(opts: LatencyOptions): Promise<LatencyResult> {
  const r: DnsperfResult = await runDnsperf({ ...opts, verbose: true });
  const lat = parseVerboseLatencies(readFileSync(opts.outFile, 'utf8'));
  // A line per query: tens of MB per run at 100k qps. The numbers are kept, not the file.
  rmSync(opts.outFile, { force: true });
  let sum = 0;
  for (const v of lat) sum += v;
  return {
    targetQps: opts.rateQps,
    achievedQps: r.qps,
    samples: lat.length,
    completed: r.completed,
    lost: r.lost,
    avgUs: lat.length > 0 ? sum / lat.length : NaN,
    p50Us: percentile(lat, 50),
    p99Us: percentile(lat, 99),
    p999Us: percentile(lat, 99.9),
    maxUs: lat.at(-1) ?? NaN,
    clientCpuS: r.clientCpuS,
    command: r.command,
  };
}

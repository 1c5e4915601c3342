/**
 * @module bench/metrics-scrape
 * Reads counters from a server's Prometheus endpoint: the cache plugin's
 * hits and misses (summed over every label set), so each run reports what
 * share of its queries the cache answered — the figure that tells whether a
 * run measured the plugin path or only the cache.
 */

export interface CacheCounters {
  readonly hits: number;
  readonly misses: number;
}

/** Sum of every sample of a counter family in a text exposition. */
export function sumFamily(text: string, family: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(family)) continue;
    const rest = line.charCodeAt(family.length);
    if (rest !== 123 /* { */ && rest !== 32 /* space */) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** coredns_cache_hits_total and coredns_cache_misses_total now; null when /metrics does not answer. */
export async function cacheCounters(url: string): Promise<CacheCounters | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    const text = await res.text();
    return { hits: sumFamily(text, 'coredns_cache_hits_total'), misses: sumFamily(text, 'coredns_cache_misses_total') };
  } catch {
    return null;
  }
}

/** Hit share (%) between two readings; null when either is missing or nothing was looked up. */
export function hitPct(before: CacheCounters | null, after: CacheCounters | null): number | null {
  if (before === null || after === null) return null;
  const hits = after.hits - before.hits;
  const total = hits + after.misses - before.misses;
  return total > 0 ? (100 * hits) / total : null;
}

/** The server's event-loop delay histogram (cumulative buckets by bound, seconds) and its GC pause totals, at one moment. */
export interface LoopAndGcReading {
  /** [upper bound in seconds (Infinity for +Inf), cumulative count], in bound order. */
  readonly loopBuckets: readonly (readonly [number, number])[];
  readonly gcCount: number;
  readonly gcSumS: number;
}

/** What happened between two readings: loop-delay percentiles (bucket upper bounds) and GC pauses. */
export interface LoopAndGcDelta {
  readonly loopSamples: number;
  /** Upper bound (ms) of the bucket holding the percentile; Infinity when it lies past the last bound. */
  readonly loopP50Ms: number;
  readonly loopP99Ms: number;
  /** Upper bound (ms) of the highest non-empty bucket. */
  readonly loopMaxMs: number;
  readonly gcCount: number;
  readonly gcTotalMs: number;
}

const LOOP_FAMILY = 'clusterdns_event_loop_delay_seconds';
const GC_FAMILY = 'nodejs_gc_duration_seconds';

/** Parses the two families out of a text exposition; null when the loop histogram is absent. */
export function parseLoopAndGc(text: string): LoopAndGcReading | null {
  const buckets: [number, number][] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${LOOP_FAMILY}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le === undefined || !Number.isFinite(v)) continue;
    buckets.push([le === '+Inf' ? Infinity : Number(le), v]);
  }
  if (buckets.length === 0) return null;
  buckets.sort((a, b) => a[0] - b[0]);
  return { loopBuckets: buckets, gcCount: sumFamily(text, `${GC_FAMILY}_count`), gcSumS: sumFamily(text, `${GC_FAMILY}_sum`) };
}

/** Reads /metrics; null when it does not answer or has no loop-delay histogram (not clusterdns, or no prometheus). */
export async function loopAndGc(url: string): Promise<LoopAndGcReading | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return res.ok ? parseLoopAndGc(await res.text()) : null;
  } catch {
    return null;
  }
}

export function loopAndGcBetween(before: LoopAndGcReading | null, after: LoopAndGcReading | null): LoopAndGcDelta | null {
  if (before === null || after === null || before.loopBuckets.length !== after.loopBuckets.length) return null;
  const counts = after.loopBuckets.map(([le, c], i) => [le, c - (before.loopBuckets[i]?.[1] ?? 0)] as const);
  const total = counts.at(-1)?.[1] ?? 0;
  const at = (p: number): number => {
    const want = Math.ceil((p / 100) * total);
    for (const [le, c] of counts) if (c >= want) return le * 1000;
    return Infinity;
  };
  let max = 0;
  for (let i = 0; i < counts.length; i++) {
    const below = i > 0 ? counts[i - 1]![1] : 0;
    if (counts[i]![1] > below) max = counts[i]![0] * 1000;
  }
  return {
    loopSamples: total,
    loopP50Ms: total > 0 ? at(50) : NaN,
    loopP99Ms: total > 0 ? at(99) : NaN,
    loopMaxMs: total > 0 ? max : NaN,
    gcCount: after.gcCount - before.gcCount,
    gcTotalMs: (after.gcSumS - before.gcSumS) * 1000,
  };
}

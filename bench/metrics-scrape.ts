/**
 * @module bench/metrics-scrape
 * Reads counters from a server's Prometheus endpoint: the cache plugin's
 * hits and misses (summed over every label set), so each run reports what
 * share of its queries the cache answered — the figure that tells whether a
 * run measured the plugin path or only the cache — and how many of its
 * misses were answers the kubernetes plugin keeps and the cache let pass
 * (clusterdns_cache_passed_total: those are the plugin's own hits).
 */

export interface CacheCounters {
  readonly hits: number;
  readonly misses: number;
  /** Misses the cache passed on unstored because the plugin behind keeps the answer (part of misses). */
  readonly passed: number;
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
    return {
      hits: sumFamily(text, 'coredns_cache_hits_total'), misses: sumFamily(text, 'coredns_cache_misses_total'),
      passed: sumFamily(text, 'clusterdns_cache_passed_total'),
    };
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

/** Share (%) of the cache's lookups between two readings that it passed on to kept answers; null as hitPct. */
export function passedPct(before: CacheCounters | null, after: CacheCounters | null): number | null {
  if (before === null || after === null) return null;
  const total = after.hits - before.hits + after.misses - before.misses;
  return total > 0 ? (100 * (after.passed - before.passed)) / total : null;
}

/**
 * @module plugins/cache/metrics
 * The cache's metrics, CoreDNS's names and labels. The hit path only adds 1
 * to a plain number field; the numbers become Prometheus counters when the
 * registry is read (each metric's collect() publishes what was added since
 * the last read), so counting costs no label lookup per query. A cache that
 * stops serving (reload, shutdown) publishes its last counts first, so
 * counters never go backwards across reloads.
 */
import { Counter, Gauge } from '../../metrics/prom-client.ts';
import type { Registry } from 'prom-client';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

/** Counts of one cache instance for one server label. */
export class CacheCounters {
  readonly server: string;
  hitsSuccess = 0;
  hitsDenial = 0;
  misses = 0;
  requests = 0;
  prefetch = 0;
  stale = 0;
  evictionsSuccess = 0;
  evictionsDenial = 0;
  /** Misses whose answer the plugin behind keeps pre-encoded (Reply.kept): passed on, not stored. */
  passed = 0;
  /** What has been published to Prometheus so far. */
  readonly published: Record<CountField, number> = {
    hitsSuccess: 0, hitsDenial: 0, misses: 0, requests: 0, prefetch: 0, stale: 0, evictionsSuccess: 0, evictionsDenial: 0, passed: 0,
  };

  constructor(server: string) {
    this.server = server;
  }
}

export type CountField = 'hitsSuccess' | 'hitsDenial' | 'misses' | 'requests' | 'prefetch' | 'stale' | 'evictionsSuccess' | 'evictionsDenial' | 'passed';

/** What a cache instance shows the metrics: its label and counters, and its sizes. */
export interface CacheStatsSource {
  readonly zones: string;
  counters(): Iterable<CacheCounters>;
  /** Server label for the entries gauge. */
  readonly entriesServer: string;
  entries(kind: 'success' | 'denial'): number;
}

type Labels = Record<string, string>;

class CacheMetrics {
  readonly #live = new Set<CacheStatsSource>();
  readonly #counters: { field: CountField; metric: Counter; type: string | undefined }[] = [];

  constructor(registry: Registry) {
    const live = this.#live;
    const publish = (metric: Counter, field: CountField, type?: string): void => {
      for (const src of live) for (const c of src.counters()) CacheMetrics.publish(metric, src, c, field, type);
    };
    const counter = (name: string, help: string, withType: boolean, parts: [CountField, string | undefined][]): void => {
      const metric: Counter = new Counter({
        name, help, registers: [registry],
        labelNames: withType ? ['server', 'type', 'zones', 'view'] : ['server', 'zones', 'view'],
        collect() { for (const [field, type] of parts) publish(metric, field, type); },
      });
      for (const [field, type] of parts) this.#counters.push({ field, metric, type });
    };
    new Gauge({
      name: 'coredns_cache_entries', help: 'The number of elements in the cache.', registers: [registry],
      labelNames: ['server', 'type', 'zones', 'view'],
      collect() {
        this.reset();
        for (const src of live) {
          for (const type of ['success', 'denial'] as const) {
            this.inc({ server: src.entriesServer, type, zones: src.zones, view: '' }, src.entries(type));
          }
        }
      },
    });
    counter('coredns_cache_hits_total', 'The count of cache hits.', true, [['hitsSuccess', 'success'], ['hitsDenial', 'denial']]);
    counter('coredns_cache_misses_total', 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.', false, [['misses', undefined]]);
    counter('coredns_cache_requests_total', 'The count of cache requests.', false, [['requests', undefined]]);
    counter('coredns_cache_prefetch_total', 'The number of times the cache has prefetched a cached item.', false, [['prefetch', undefined]]);
    counter('coredns_cache_served_stale_total', 'The number of requests served from stale cache entries.', false, [['stale', undefined]]);
    counter('coredns_cache_evictions_total', 'The count of cache evictions.', true, [['evictionsSuccess', 'success'], ['evictionsDenial', 'denial']]);
    // Ours: the part of the misses the cache let pass because the plugin behind keeps its answers (README, Differences).
    counter('clusterdns_cache_passed_total', 'The count of cache misses answered by a plugin that keeps its answers pre-encoded; not stored.', false, [['passed', undefined]]);
  }

  static publish(metric: Counter, src: CacheStatsSource, c: CacheCounters, field: CountField, type?: string): void {
    const delta = c[field] - c.published[field];
    if (delta <= 0) return;
    c.published[field] = c[field];
    const labels: Labels = type === undefined
      ? { server: c.server, zones: src.zones, view: '' }
      : { server: c.server, type, zones: src.zones, view: '' };
    metric.inc(labels, delta);
  }

  add(src: CacheStatsSource): void {
    this.#live.add(src);
  }

  /** Publish what is left and stop showing `src`. */
  remove(src: CacheStatsSource): void {
    if (!this.#live.delete(src)) return;
    for (const { field, metric, type } of this.#counters) for (const c of src.counters()) CacheMetrics.publish(metric, src, c, field, type);
  }
}

export type { CacheMetrics };

export function cacheMetrics(services: ProcessServices): CacheMetrics {
  return processMetric(services, 'cache', (registry) => new CacheMetrics(registry));
}

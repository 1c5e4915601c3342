/**
 * @module plugins/forward/metrics
 * forward's metrics, with CoreDNS's names, labels and buckets (the proxy
 * package's `coredns_proxy_*` with proxy_name="forward", and forward's own
 * `coredns_forward_*`). Created once per process; upstreams keep the label
 * children they use.
 */
import { Counter, Histogram } from '../../metrics/prom-client.ts';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

/** CoreDNS plugin.TimeBuckets: 0.25 ms * 2^k, 16 buckets. */
const TIME_BUCKETS = Array.from({ length: 16 }, (_, k) => 0.00025 * 2 ** k);

export interface ForwardMetrics {
  readonly requestDuration: Histogram<'proxy_name' | 'to' | 'rcode'>;
  readonly healthcheckFailures: Counter<'proxy_name' | 'to'>;
  readonly connCacheHits: Counter<'proxy_name' | 'to' | 'proto'>;
  readonly connCacheMisses: Counter<'proxy_name' | 'to' | 'proto'>;
  readonly maxConcurrentRejects: Counter;
  readonly healthcheckBroken: Counter;
}

export function forwardMetrics(services: ProcessServices): ForwardMetrics {
  return processMetric(services, 'forward', (registry) => ({
    requestDuration: new Histogram({
      name: 'coredns_proxy_request_duration_seconds', help: 'Histogram of the time each request took.',
      labelNames: ['proxy_name', 'to', 'rcode'], buckets: TIME_BUCKETS, registers: [registry],
    }),
    healthcheckFailures: new Counter({
      name: 'coredns_proxy_healthcheck_failures_total', help: 'Counter of the number of failed healthchecks.',
      labelNames: ['proxy_name', 'to'], registers: [registry],
    }),
    connCacheHits: new Counter({
      name: 'coredns_proxy_conn_cache_hits_total', help: 'Counter of connection cache hits per upstream and protocol.',
      labelNames: ['proxy_name', 'to', 'proto'], registers: [registry],
    }),
    connCacheMisses: new Counter({
      name: 'coredns_proxy_conn_cache_misses_total', help: 'Counter of connection cache misses per upstream and protocol.',
      labelNames: ['proxy_name', 'to', 'proto'], registers: [registry],
    }),
    maxConcurrentRejects: new Counter({
      name: 'coredns_forward_max_concurrent_rejects_total',
      help: 'Counter of the number of queries rejected because the concurrent queries were at maximum.',
      registers: [registry],
    }),
    healthcheckBroken: new Counter({
      name: 'coredns_forward_healthcheck_broken_total',
      help: 'Counter of the number of complete failures of the healthchecks.',
      registers: [registry],
    }),
  }));
}

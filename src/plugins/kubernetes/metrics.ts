/**
 * @module plugins/kubernetes/metrics
 * coredns_kubernetes_dns_programming_duration_seconds{service_kind}: time
 * from the change that triggered an EndpointSlice update (its
 * last-change-trigger-time annotation) to the moment DNS answers with it.
 * Same name, label values and buckets (exponential 1 ms x 2, 20) as CoreDNS.
 * The client metrics (rest_client_*) belong to the API source.
 */
import { exponentialBuckets, Histogram } from '../../metrics/prom-client.ts';
import type { EndpointSliceRecord, ServiceRecord } from '../../cluster/types.ts';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

export interface ProgrammingLatency {
  readonly clusterIp: Histogram.Internal<'service_kind'>;
  readonly headlessWithSelector: Histogram.Internal<'service_kind'>;
  readonly headlessWithoutSelector: Histogram.Internal<'service_kind'>;
}

export function programmingLatency(services: ProcessServices): ProgrammingLatency {
  return processMetric(services, 'kubernetes:dns_programming_duration', (registry) => {
    const h = new Histogram({
      name: 'coredns_kubernetes_dns_programming_duration_seconds',
      help: 'Histogram of the time (in seconds) it took to program a dns instance.',
      labelNames: ['service_kind'],
      buckets: exponentialBuckets(0.001, 2, 20),
      registers: [registry],
    });
    return {
      clusterIp: h.labels('cluster_ip'),
      headlessWithSelector: h.labels('headless_with_selector'),
      headlessWithoutSelector: h.labels('headless_without_selector'),
    };
  });
}

/**
 * Records one slice change. As CoreDNS: only slices with a trigger time (the
 * EndpointSlice controller sets it for services with a selector), and only
 * when the service is known.
 */
export function observeProgramming(m: ProgrammingLatency, slice: EndpointSliceRecord, service: ServiceRecord | undefined, now = Date.now()): void {
  if (!slice.triggerTime || service === undefined) return;
  const seconds = Math.max(0, (now - slice.triggerTime) / 1000);
  (service.headless ? m.headlessWithSelector : m.clusterIp).observe(seconds);
}

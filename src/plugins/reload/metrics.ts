/**
 * @module plugins/reload/metrics
 * The reload metrics, CoreDNS's names: coredns_reload_failed_total and
 * coredns_reload_version_info{hash="sha512",value}. Registered once per
 * process when a configuration uses `reload`; the process's reload watcher
 * (app/reload-watcher) counts the failures, of polls and of SIGUSR1 alike.
 */
import { Counter } from '../../metrics/prom-client.ts';
import { processMetric } from '../../metrics/registry.ts';
import { registerScraped } from '../../metrics/scraped-metric.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

export interface ReloadMetrics {
  readonly failed: Counter;
}

/** coredns_reload_failed_total and coredns_reload_version_info{hash="sha512",value}, once per process. */
export function reloadMetrics(services: ProcessServices): ReloadMetrics {
  return processMetric(services, 'reload', (registry) => {
    const failed = new Counter({ name: 'coredns_reload_failed_total', help: 'Counter of the number of failed reload attempts.', registers: [registry] });
    registerScraped(registry, 'coredns_reload_version_info', "A metric with a constant '1' value labeled by hash, and value which type of hash generated.", 'gauge', () => {
      const hash = services.control?.configHash ?? '';
      return hash === '' ? [] : [{ value: 1, labels: { hash: 'sha512', value: hash } }];
    });
    return { failed };
  });
}


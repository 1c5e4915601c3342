/**
 * @module plugins/dnsrecord/metrics
 * coredns_dnsrecord_invalid_records_total{source}: DNSRecords from the API or
 * etcd that failed validation (a new bad version of an object or key), the
 * same shape as coredns_dnsrecord_manifest_errors_total for files. The
 * record's last good version keeps being served. Process-wide, so the count
 * survives reloads.
 */
import { Counter } from '../../metrics/prom-client.ts';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';
import type { DnsRecordSourceName } from '../../dnsrecord/feeds.ts';

/** The callback DnsRecordFeeds takes as `onBadRecord`. */
export function invalidRecordCounter(services: ProcessServices): (source: DnsRecordSourceName) => void {
  const counter = processMetric(services, 'dnsrecord:invalid-records', (registry) => new Counter({
    name: 'coredns_dnsrecord_invalid_records_total',
    help: 'DNSRecords from the API or etcd that failed validation; the last good version of each is kept.',
    labelNames: ['source'], registers: [registry],
  }));
  return (source) => counter.labels(source).inc();
}

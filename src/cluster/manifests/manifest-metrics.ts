/**
 * @module cluster/manifests/manifest-metrics
 * coredns_<plugin>_manifest_errors_total{file}: manifest files that could
 * not be used (unreadable, unparsable, emptied while they held objects),
 * counted once per new failure; the objects they held keep being served.
 * One counter per plugin reading manifests (kubernetes, dnsrecord), each
 * under its plugin's prefix as CoreDNS names metrics. Process-wide, so the
 * count survives reloads.
 */
import { Counter } from '../../metrics/prom-client.ts';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

/** The plugins whose manifest sources count failed files. */
export type ManifestPlugin = 'kubernetes' | 'dnsrecord';

/** The callback a ManifestSource takes as `onFileError`. */
export function manifestErrorCounter(services: ProcessServices, plugin: ManifestPlugin = 'kubernetes'): (file: string) => void {
  const counter = processMetric(services, `${plugin}:manifest-errors`, (registry) => new Counter({
    name: `coredns_${plugin}_manifest_errors_total`,
    help: 'Manifest files that could not be read or parsed; the objects they held before are kept.',
    labelNames: ['file'], registers: [registry],
  }));
  return (file) => counter.labels(file).inc();
}

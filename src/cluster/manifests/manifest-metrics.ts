/**
 * @module cluster/manifests/manifest-metrics
 * coredns_kubernetes_manifest_errors_total{file}: manifest files that could
 * not be used (unreadable, unparsable, emptied while they held objects),
 * counted once per new failure; the objects they held keep being served.
 * Process-wide, so the count survives reloads.
 */
import { Counter } from 'prom-client';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

/** The callback a ManifestSource takes as `onFileError`. */
export function manifestErrorCounter(services: ProcessServices): (file: string) => void {
  const counter = processMetric(services, 'kubernetes:manifest-errors', (registry) => new Counter({
    name: 'coredns_kubernetes_manifest_errors_total',
    help: 'Manifest files that could not be read or parsed; the objects they held before are kept.',
    labelNames: ['file'], registers: [registry],
  }));
  return (file) => counter.labels(file).inc();
}

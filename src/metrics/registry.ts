/**
 * @module metrics/registry
 * The one Prometheus registry of the process (prom-client), kept across
 * reloads so counters never reset when the Corefile changes. Plugins create
 * their metric objects once per process through `processMetric`, and keep
 * label children (`counter.labels(...)`) they reuse, so counting on the
 * query path is an increment, not a label lookup.
 */
import { Registry } from 'prom-client';
import type { ProcessServices } from '../plugin/process-services.ts';

export function metricsRegistry(services: ProcessServices): Registry {
  return services.singleton('metrics:registry', () => new Registry());
}

/** A metric (or group of metrics) created once per process under `key`, registered in the process registry. */
export function processMetric<T>(services: ProcessServices, key: string, create: (registry: Registry) => T): T {
  const registry = metricsRegistry(services);
  return services.singleton(`metric:${key}`, () => create(registry));
}

/** What /metrics serves, as text. */
export type MetricsExposition = () => Promise<string>;

const EXPOSITION_KEY = 'metrics:exposition';

/** The process registry as text, unless replaced (a worker pool's primary serves the sum over its workers). */
export function metricsExposition(services: ProcessServices): MetricsExposition {
  const replaced = services.shared.get(EXPOSITION_KEY) as MetricsExposition | undefined;
  if (replaced !== undefined) return replaced;
  const registry = metricsRegistry(services);
  return () => registry.metrics();
}

export function setMetricsExposition(services: ProcessServices, exposition: MetricsExposition): void {
  services.shared.set(EXPOSITION_KEY, exposition);
}

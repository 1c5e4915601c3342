/**
 * @module metrics/registry
 * The one Prometheus registry of the process (prom-client), kept across
 * reloads so counters never reset when the Corefile changes. Plugins create
 * their metric objects once per process through `processMetric`, and keep
 * label children (`counter.labels(...)`) they reuse, so counting on the
 * query path is an increment, not a label lookup.
 */
import { Registry } from './prom-client.ts';
import { ProcessSlot, type ProcessServices } from '../plugin/process-services.ts';

const REGISTRY = new ProcessSlot('metrics registry', () => new Registry());
/**
 * Metric groups by the name their plugin gives them ('cache', 'forward' ...):
 * each plugin passes one name and always the same `create`, so the value
 * under a name always has that create's type.
 */
const METRIC_GROUPS = new ProcessSlot('metric groups', () => new Map<string, unknown>());

/** What /metrics serves, as text. */
export type MetricsExposition = () => Promise<string>;

const EXPOSITION = new ProcessSlot<MetricsExposition | null>('metrics exposition', () => null);

export function metricsRegistry(services: ProcessServices): Registry {
  return services.get(REGISTRY);
}

/** A metric (or group of metrics) created once per process under `key`, registered in the process registry. */
export function processMetric<T>(services: ProcessServices, key: string, create: (registry: Registry) => T): T {
  const groups = services.get(METRIC_GROUPS);
  if (groups.has(key)) return groups.get(key) as T;
  const made = create(metricsRegistry(services));
  groups.set(key, made);
  return made;
}

/** The process registry as text, unless replaced (a worker pool's primary serves the sum over its workers). */
export function metricsExposition(services: ProcessServices): MetricsExposition {
  const replaced = services.get(EXPOSITION);
  if (replaced !== null) return replaced;
  const registry = metricsRegistry(services);
  return () => renderInSlices(registry);
}

/** Longest stretch (ms) a scrape renders before it lets the event loop serve queries again. */
export const RENDER_SLICE_MS = 0.25;

/**
 * registry.metrics(), byte for byte, in slices: between metrics, once a
 * slice has run RENDER_SLICE_MS, it waits for the next loop iteration
 * (setImmediate) so queries that arrived meanwhile are answered. Why:
 * prom-client renders every metric in one synchronous stretch (its
 * Promise.all only queues microtasks, which never let I/O in), and with
 * the ~60 metric families of a kubeadm-like Corefile at 10,000 services
 * that stretch was 0.88 ms at best on an idle core (more under load), every
 * scrape, on the query thread. Now the longest stretch is one metric's
 * collect and format: 0.27 ms at most (coredns_udp_receive_drops_total,
 * which reads /proc). `now` is injectable for tests.
 */
export async function renderInSlices(registry: Registry, now: () => number = () => performance.now()): Promise<string> {
  const parts: string[] = [];
  let sliceStart = now();
  for (const metric of registry.getMetricsAsArray()) {
    parts.push(await registry.getSingleMetricAsString(metric.name));
    if (now() - sliceStart >= RENDER_SLICE_MS) {
      await new Promise<void>((resolve) => { setImmediate(resolve); });
      sliceStart = now();
    }
  }
  return (registry.contentType as string) === Registry.OPENMETRICS_CONTENT_TYPE ? `${parts.join('\n')}\n# EOF\n` : `${parts.join('\n\n')}\n`;
}

export function setMetricsExposition(services: ProcessServices, exposition: MetricsExposition): void {
  services.set(EXPOSITION, exposition);
}

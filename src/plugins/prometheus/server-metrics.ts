/**
 * @module plugins/prometheus/server-metrics
 * Process-wide metrics the prometheus plugin brings along: coredns_build_info,
 * coredns_panics_total, coredns_plugin_enabled, coredns_udp_receive_drops_total
 * (kernel drops on our listening sockets), clusterdns_event_loop_delay_seconds
 * (server/loop-delay.ts), clusterdns_heap_max_semi_space_bytes (server/heap.ts),
 * and the Node.js process and
 * runtime metrics (prom-client's default collectors: the counterpart of
 * CoreDNS's Go runtime metrics). Created once per process.
 */
import { collectDefaultMetrics, Gauge } from '../../metrics/prom-client.ts';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';
import { VERSION } from '../../version.ts';
import { pushHistogram, registerScraped, type Sample } from '../../metrics/scraped-metric.ts';
import { udpSocketDrops } from '../../metrics/udp-drops.ts';
import { LOOP_DELAY_BUCKETS, processLoopDelay } from '../../server/loop-delay.ts';
import { heapGrowingPercent, semiSpaceMiB } from '../../server/heap.ts';

export interface EnabledPlugin {
  readonly server: string;
  readonly zone: string;
  readonly name: string;
}

/**
 * The label sets of coredns_plugin_enabled, counted by the configurations
 * that use them: a reload adds the new ones before the old are removed, so a
 * plugin that stays never blinks out, and one that is dropped disappears.
 */
export class EnabledPlugins {
  readonly #entries = new Map<string, { readonly plugin: EnabledPlugin; refs: number }>();

  add(list: readonly EnabledPlugin[]): void {
    for (const p of list) {
      const key = `${p.server} ${p.zone} ${p.name}`;
      const e = this.#entries.get(key);
      if (e) e.refs++;
      else this.#entries.set(key, { plugin: p, refs: 1 });
    }
  }

  remove(list: readonly EnabledPlugin[]): void {
    for (const p of list) {
      const key = `${p.server} ${p.zone} ${p.name}`;
      const e = this.#entries.get(key);
      if (e && --e.refs <= 0) this.#entries.delete(key);
    }
  }

  samples(): Sample[] {
    return [...this.#entries.values()].map(({ plugin: p }) => ({ value: 1, labels: { server: p.server, zone: p.zone, view: '', name: p.name } }));
  }
}

/** Revision of the build, when the image sets it; CoreDNS fills it from git at build time. */
const REVISION = process.env.CLUSTERDNS_REVISION ?? '';
/** Sampling interval of prom-client's event-loop lag histogram (nodejs_eventloop_lag_p*). */
export const LAG_PRECISION_MS = 100;

export function serverMetrics(services: ProcessServices): { enabled: EnabledPlugins } {
  return processMetric(services, 'prometheus:server', (registry) => {
    const buildInfo = new Gauge({
      name: 'coredns_build_info',
      help: "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
      labelNames: ['version', 'revision', 'goversion'] as const,
      registers: [registry],
    });
    buildInfo.labels(VERSION, REVISION, process.version).set(1);
    registerScraped(registry, 'coredns_panics_total', 'A metrics that counts the number of panics.', 'counter',
      () => [{ value: services.control?.panics ?? 0, labels: {} }]);
    // Not a CoreDNS metric: datagrams the kernel dropped on our listening sockets (receive buffer full).
    registerScraped(registry, 'coredns_udp_receive_drops_total', 'Datagrams the kernel dropped on a listening UDP socket of this process (receive buffer full), from /proc/net/udp.', 'counter',
      () => udpSocketDrops().map((d) => ({ value: d.drops, labels: { listener: d.listener } })));
    const enabled = new EnabledPlugins();
    registerScraped(registry, 'coredns_plugin_enabled', 'A metric that indicates whether a plugin is enabled on per server and zone basis.', 'gauge',
      () => enabled.samples());
    // nodejs_eventloop_lag_p50..p99 sample every LAG_PRECISION_MS, not prom-client's 10 ms, which would wake an idle
    // server 100 times a second; clusterdns_event_loop_delay_seconds below samples every 10 ms while serving.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: LAG_PRECISION_MS });
    // What the young generation may grow to (server/heap.ts sets it at start); absent: V8's default.
    registerScraped(registry, 'clusterdns_heap_max_semi_space_bytes', 'The V8 semi-space limit this process was started with (--max-semi-space-size).', 'gauge', () => {
      const mib = semiSpaceMiB();
      return mib === null ? [] : [{ value: mib * 2 ** 20, labels: {} }];
    });
    // How far the old generation may grow past the last full GC's survivors (server/heap.ts sets it once started); absent: V8's own factor.
    registerScraped(registry, 'clusterdns_heap_growing_percent', 'How far (percent) V8 lets the old generation grow past the last full collection before the next one (--heap-growing-percent).', 'gauge', () => {
      const percent = heapGrowingPercent();
      return percent === null ? [] : [{ value: percent, labels: {} }];
    });
    // Cumulative (prom-client's nodejs_eventloop_lag_* reset at every scrape): a bench diffs two scrapes.
    registerScraped(registry, 'clusterdns_event_loop_delay_seconds', 'How late the event loop ran a timer, while serving.', 'histogram', () => {
      const d = processLoopDelay();
      const out: Sample[] = [];
      pushHistogram(out, 'clusterdns_event_loop_delay_seconds', {}, LOOP_DELAY_BUCKETS, d.counts, 0, d.sum);
      return out;
    });
    return { enabled };
  });
}

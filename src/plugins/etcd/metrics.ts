/**
 * @module plugins/etcd/metrics
 * The etcd plugin's own state, per server block and path (CoreDNS's etcd
 * plugin has none; requests and responses are counted by the server's
 * coredns_dns_* metrics with plugin="etcd" like every plugin):
 * coredns_etcd_synced (1 while listed and watching), coredns_etcd_last_sync_timestamp_seconds
 * (last list, watch event or watch connect), coredns_etcd_records (keys
 * served), coredns_etcd_invalid_values (keys whose value is skipped as bad now),
 * coredns_etcd_lists_total {reason} (full lists: start, compacted, reset),
 * coredns_etcd_watch_resumes_total (watches resumed after a disconnect without a list)
 * and coredns_etcd_bad_values_total (values rejected, counted as they come: the
 * key's last good value keeps serving; process-wide, so it survives reloads).
 */
import { Counter, Gauge } from '../../metrics/prom-client.ts';
import type { PrefixWatcher } from '../../cluster/etcd/prefix-watcher.ts';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';
import type { EtcdIndex } from './index.ts';

export interface LiveEtcd {
  readonly server: string;
  readonly path: string;
  readonly index: EtcdIndex;
  readonly watcher: PrefixWatcher;
}

/** The etcd plugins serving now; the gauges read them when scraped. */
export function etcdMetrics(services: ProcessServices): Set<LiveEtcd> {
  return processMetric(services, 'etcd', (registry) => {
    const live = new Set<LiveEtcd>();
    const labelNames = ['server', 'path'] as const;
    const each = (g: Gauge<'server' | 'path'>, value: (e: LiveEtcd) => number): void => {
      g.reset();
      for (const e of live) g.set({ server: e.server, path: e.path }, value(e));
    };
    new Gauge({
      name: 'coredns_etcd_synced', help: 'Whether the etcd plugin has listed its path and is watching it (1) or not (0).',
      labelNames, registers: [registry], collect() { each(this, (e) => (e.watcher.synced ? 1 : 0)); },
    });
    new Gauge({
      name: 'coredns_etcd_last_sync_timestamp_seconds', help: 'When the etcd plugin last heard from etcd (list, watch event or watch connect).',
      labelNames, registers: [registry], collect() { each(this, (e) => e.watcher.lastSyncMs / 1000); },
    });
    new Gauge({
      name: 'coredns_etcd_records', help: 'Keys the etcd plugin serves.',
      labelNames, registers: [registry], collect() { each(this, (e) => e.index.size); },
    });
    new Gauge({
      name: 'coredns_etcd_invalid_values', help: 'Keys whose value the etcd plugin skips because it is not a valid record.',
      labelNames, registers: [registry], collect() { each(this, (e) => e.index.badKeys); },
    });
    new Counter({
      name: 'coredns_etcd_lists_total', help: 'Full lists of the path by the etcd plugin, by reason: start, compacted (the watch revision was compacted), reset (another etcd history).',
      labelNames: [...labelNames, 'reason'], registers: [registry],
      collect() {
        this.reset();
        for (const e of live) for (const [reason, n] of Object.entries(e.watcher.listsFor)) this.inc({ server: e.server, path: e.path, reason }, n);
      },
    });
    new Counter({
      name: 'coredns_etcd_watch_resumes_total', help: 'Watches the etcd plugin resumed after a disconnect from the revision it held, without a list.',
      labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const e of live) this.inc({ server: e.server, path: e.path }, e.watcher.resumes);
      },
    });
    return live;
  });
}

/** The callback an EtcdIndex takes as `onBadValue`: counts one rejected value under the block's server and path. */
export function etcdBadValueCounter(services: ProcessServices, server: string, path: string): () => void {
  const counter = processMetric(services, 'etcd:bad-values', (registry) => new Counter({
    name: 'coredns_etcd_bad_values_total',
    help: 'Values the etcd plugin rejected as not a valid record; the key keeps its last good value.',
    labelNames: ['server', 'path'], registers: [registry],
  }));
  const child = counter.labels(server, path);
  return () => child.inc();
}

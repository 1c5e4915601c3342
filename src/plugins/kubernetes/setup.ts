/**
 * @module plugins/kubernetes/setup
 * The kubernetes plugin's setup: options (options.ts) into a ClusterStore,
 * the DNS index over it and the handler; the cluster-state source
 * (source.ts) is made and started in the startup hook, which waits for the
 * first sync up to startup_timeout (O17); readiness follows the sync.
 */
import { networkInterfaces } from 'node:os';
import { CorefileError } from '../../corefile/errors.ts';
import type { KubernetesApiSource } from '../../cluster/api/source.ts';
import { LabelFilteredSink } from '../../cluster/filtered-sink.ts';
import { ClusterStore } from '../../cluster/store.ts';
import type { ClusterStateSink, ClusterStateSource } from '../../cluster/types.ts';
import { canonicalIp } from '../../dns/ip.ts';
import type { BoundAddress, PluginDefinition } from '../../plugin/plugin.ts';
import { manifestErrorCounter } from '../../cluster/manifests/manifest-metrics.ts';
import { PodIpIndex, PodIpIndexSink } from '../../cluster/pod-ip-index.ts';
import { apiMetrics, type ApiMetrics } from './api-metrics.ts';
import { DnsIndex } from './dns-index.ts';
import { KubernetesHandler } from './handler.ts';
import { observeProgramming, programmingLatency } from './metrics.ts';
import { parseKubernetesOptions, watchedKinds } from './options.ts';
import { fillFromLastKnown, forgetLastKnown } from './last-known.ts';
import { makeSource, sourceKey, waitForSync } from './source.ts';
import { errorMessage } from '../../errors/to-error.ts';

const P = 'kubernetes';

/** The server's own addresses (C5, D8): what it listens on, or every non-loopback interface address when it listens on all. */
export function ownAddresses(bound: readonly BoundAddress[]): string[] {
  const out = new Set<string>();
  for (const b of bound) {
    if (b.address !== '') {
      const ip = canonicalIp(b.address);
      if (ip !== null && ip !== '0.0.0.0' && ip !== '::') { out.add(ip); continue; }
    }
    for (const infos of Object.values(networkInterfaces())) {
      for (const i of infos ?? []) {
        if (!i.internal && !i.address.startsWith('fe80:')) out.add(canonicalIp(i.address) ?? i.address);
      }
    }
  }
  return [...out];
}

export const kubernetes: PluginDefinition = {
  name: P,
  once: true,
  inClassOnly: true,
  setup(d, ctx) {
    const o = parseKubernetesOptions(d, ctx);
    const log = ctx.logger.plugin(P);
    // autopath @kubernetes finds a client's namespace in a compact pod-IP index fed by this plugin's source.
    const podIps = ctx.plugins.includes('autopath') ? new PodIpIndex() : null;
    const kinds = watchedKinds(o, podIps !== null);
    const store = new ClusterStore({ onListenerError: (e) => log.error(`index update failed: ${errorMessage(e)}`) });
    const filtered: ClusterStateSink = o.labels !== null && !o.labels.empty ? new LabelFilteredSink(store, o.labels) : store;
    const sink = podIps === null ? filtered : new PodIpIndexSink(filtered, podIps, o.pods === 'verified');
    let own: string[] = [];
    ctx.onListening((bound) => { own = ownAddresses(bound); });
    const index = new DnsIndex(store, {
      zones: o.zones, primaryZone: o.primaryZone, ttl: o.ttl, pods: o.pods, endpointPodNames: o.endpointPodNames,
      endpoints: !o.noEndpoints, ignoreEmptyService: o.ignoreEmptyService, zonal: o.zonal,
      namespaces: o.namespaces, namespaceLabels: o.namespaceLabels, localAddresses: () => own,
    });
    const latency = programmingLatency(ctx.services);
    // Not the first list: its trigger times are history (CoreDNS counts only changes it sees happen).
    index.observeSlices((slice, service) => { if (store.isSynced('EndpointSlice')) observeProgramming(latency, slice, service); });
    const synced = (): boolean => store.synced(kinds);
    ctx.readyCheck(P, synced);
    // The source is made at startup, not here: checking a Corefile (reload, `deploy render`) must not need
    // the cluster. A connection setting that cannot work (in-cluster outside a cluster, unreadable
    // kubeconfig) still stops the server from starting, with the directive's place.
    let source: ClusterStateSource | null = null;
    let made: ClusterStateSource | null = null;
    const metrics = (): ApiMetrics => apiMetrics(ctx.services);
    ctx.onStartup(async () => {
      try {
        // Made only where sources run (alone, or a pool's primary): a worker gets a relay and never makes it.
        source = await ctx.services.sourceSharing.share(sourceKey(o, kinds), kinds, async () => {
          made = await makeSource(o, kinds, log, metrics, (file) => manifestErrorCounter(ctx.services)(file));
          return made;
        });
      } catch (e) {
        throw new CorefileError(d.file, d.line, `plugin/${P}: ${errorMessage(e)}`);
      }
      source.start(sink);
      await waitForSync(store, kinds, o.startupTimeoutMs, log);
      fillFromLastKnown(ctx.services, sourceKey(o, kinds), store, sink, kinds, log);
    });
    ctx.onShutdown(async () => {
      forgetLastKnown(ctx.services, sourceKey(o, kinds), store);
      await source?.stop();
      if (made !== null && o.manifests === null) metrics().sources.delete(made as KubernetesApiSource);
      index.close();
    });
    return new KubernetesHandler({
      index, zones: o.zones, fallthrough: o.fallthrough, synced, upstream: () => ctx.chainHead(), blockZones: ctx.zones, podIps,
    });
  },
};

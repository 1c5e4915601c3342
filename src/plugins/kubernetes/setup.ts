/**
 * @module plugins/kubernetes/setup
 * The kubernetes plugin's setup: options (options.ts) into a ClusterStore,
 * the DNS index over it and the handler; the cluster-state source
 * (source.ts) is made and started in the startup hook, which waits for the
 * first sync up to startup_timeout (O17); readiness follows the sync. A
 * reload with the block unchanged takes the running state over instead
 * (shared-cluster.ts): no relist, no new index.
 */
import { networkInterfaces } from 'node:os';
import { CorefileError } from '../../corefile/errors.ts';
import type { KubernetesApiSource } from '../../cluster/api/source.ts';
import type { ClusterStateSource } from '../../cluster/types.ts';
import { canonicalIp } from '../../dns/ip.ts';
import type { BoundAddress, PluginDefinition } from '../../plugin/plugin.ts';
import { manifestErrorCounter } from '../../cluster/manifests/manifest-metrics.ts';
import { apiMetrics, type ApiMetrics } from './api-metrics.ts';
import { KubernetesHandler } from './handler.ts';
import { observeProgramming, programmingLatency } from './metrics.ts';
import { parseKubernetesOptions, watchedKinds } from './options.ts';
import { fillFromLastKnown, forgetLastKnown } from './last-known.ts';
import { makeSource, sourceKey, waitForSync } from './source.ts';
import { register, release, runningOrNew, SharedCluster, sharedKey } from './shared-cluster.ts';
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
    const withPodIps = ctx.plugins.includes('autopath');
    const kinds = watchedKinds(o, withPodIps);
    const key = sourceKey(o, kinds);
    // A reload with this block unchanged takes over the running store, index and source (shared-cluster.ts).
    const stateKey = sharedKey(o, kinds, withPodIps);
    const shared = runningOrNew(ctx.services, stateKey, () => {
      const made = new SharedCluster(stateKey, o, withPodIps, log);
      const latency = programmingLatency(ctx.services);
      // Not the first list: its trigger times are history (CoreDNS counts only changes it sees happen).
      made.index.observeSlices((slice, service) => { if (made.store.isSynced('EndpointSlice')) observeProgramming(latency, slice, service); });
      return made;
    });
    const { store, sink, index, podIps } = shared;
    ctx.onListening((bound) => { shared.own = ownAddresses(bound); });
    const synced = (): boolean => store.synced(kinds);
    ctx.readyCheck(P, synced);
    // The source is made at startup, not here: checking a Corefile (reload, `deploy render`) must not need
    // the cluster. A connection setting that cannot work (in-cluster outside a cluster, unreadable
    // kubeconfig) still stops the server from starting, with the directive's place.
    let started = false;
    const metrics = (): ApiMetrics => apiMetrics(ctx.services);
    ctx.onStartup(async () => {
      if (shared.source !== null) {
        // Taken over from the running configuration: already listed and watching.
        if (shared.stopped) throw new CorefileError(d.file, d.line, `plugin/${P}: the cluster state to take over was stopped during the reload`);
        shared.users++;
        started = true;
        return;
      }
      let source: ClusterStateSource;
      try {
        // Made only where sources run (alone, or a pool's primary): a worker gets a relay and never makes it.
        source = await ctx.services.sourceSharing.share(key, kinds, () => makeSource(o, kinds, log, metrics, (file) => manifestErrorCounter(ctx.services)(file)));
      } catch (e) {
        throw new CorefileError(d.file, d.line, `plugin/${P}: ${errorMessage(e)}`);
      }
      shared.source = source;
      shared.users++;
      started = true;
      source.start(sink);
      await waitForSync(store, kinds, o.startupTimeoutMs, log);
      fillFromLastKnown(ctx.services, key, store, sink, kinds, log);
      register(ctx.services, shared);
    });
    ctx.onShutdown(async () => {
      if (!started || !release(ctx.services, shared)) return;
      forgetLastKnown(ctx.services, key, store);
      const source = shared.source;
      await source?.stop();
      if (source !== null && o.manifests === null) metrics().sources.delete(source as KubernetesApiSource);
      index.close();
    });
    return new KubernetesHandler({
      index, zones: o.zones, fallthrough: o.fallthrough, synced, upstream: () => ctx.chainHead(), blockZones: ctx.zones, podIps,
    });
  },
};

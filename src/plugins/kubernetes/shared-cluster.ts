/**
 * @module plugins/kubernetes/shared-cluster
 * The cluster state a kubernetes block serves from (its store, sink chain,
 * DNS index and source), kept across reloads. CoreDNS builds all of it anew
 * on every reload; here a configuration whose kubernetes block reads the same
 * (every setting of the source and the index: sharedKey) takes the running
 * one over, so a reload neither relists 10,000 services nor rebuilds their
 * index and answers (the soak's reload spikes, bench/soak.ts). A changed
 * block builds its own. Each configuration that started on it counts as a
 * user; the last one to shut down stops the source. A reload that fails
 * shuts down only its own use, so the old configuration keeps it.
 */
import { LabelFilteredSink } from '../../cluster/filtered-sink.ts';
import { PodIpIndex, PodIpIndexSink } from '../../cluster/pod-ip-index.ts';
import { ClusterStore } from '../../cluster/store.ts';
import type { ClusterKind, ClusterStateSink, ClusterStateSource } from '../../cluster/types.ts';
import type { Logger } from '../../log/logger.ts';
import { ProcessSlot, type ProcessServices } from '../../plugin/process-services.ts';
import { errorMessage } from '../../errors/to-error.ts';
import { DnsIndex } from './dns-index.ts';
import type { KubernetesOptions } from './options.ts';
import { sourceKey } from './source.ts';

/** One kubernetes block's cluster state, possibly serving several configurations in turn. */
export class SharedCluster {
  readonly key: string;
  readonly store: ClusterStore;
  readonly sink: ClusterStateSink;
  readonly podIps: PodIpIndex | null;
  readonly index: DnsIndex;
  /** The server's own addresses (NS answers), as the newest configuration using it was bound. */
  own: readonly string[] = [];
  /** Set by the first configuration that starts it. */
  source: ClusterStateSource | null = null;
  /** Configurations that started on it and have not shut down. */
  users = 0;
  /** Its source was stopped and its index closed: no configuration may take it over any more. */
  stopped = false;

  constructor(key: string, o: KubernetesOptions, withPodIps: boolean, log: Logger) {
    this.key = key;
    this.podIps = withPodIps ? new PodIpIndex() : null;
    this.store = new ClusterStore({ onListenerError: (e) => log.error(`index update failed: ${errorMessage(e)}`) });
    const filtered: ClusterStateSink = o.labels !== null && !o.labels.empty ? new LabelFilteredSink(this.store, o.labels) : this.store;
    this.sink = this.podIps === null ? filtered : new PodIpIndexSink(filtered, this.podIps, o.pods === 'verified');
    this.index = new DnsIndex(this.store, {
      zones: o.zones, primaryZone: o.primaryZone, ttl: o.ttl, pods: o.pods, endpointPodNames: o.endpointPodNames,
      endpoints: !o.noEndpoints, ignoreEmptyService: o.ignoreEmptyService, zonal: o.zonal,
      namespaces: o.namespaces, namespaceLabels: o.namespaceLabels, localAddresses: () => this.own,
    });
  }
}

const RUNNING = new ProcessSlot('kubernetes shared cluster state', () => new Map<string, SharedCluster>());

/** Everything SharedCluster is built from: the source's settings and the index's, and whether autopath wants pod IPs. */
export function sharedKey(o: KubernetesOptions, kinds: readonly ClusterKind[], withPodIps: boolean): string {
  return JSON.stringify([
    sourceKey(o, kinds), withPodIps, o.zones, o.primaryZone, o.ttl, o.endpointPodNames, o.ignoreEmptyService, o.zonal,
    o.namespaces === null ? null : [...o.namespaces].sort(), o.namespaceLabels?.text ?? null,
  ]);
}

/** At setup: the running state with this key when there is one, else a new one (not running until `register`). */
export function runningOrNew(services: ProcessServices, key: string, make: () => SharedCluster): SharedCluster {
  const running = services.get(RUNNING).get(key);
  return running !== undefined && !running.stopped ? running : make();
}

/** At startup, once its source runs: the state is the one later configurations with this key take over. */
export function register(services: ProcessServices, shared: SharedCluster): void {
  services.get(RUNNING).set(shared.key, shared);
}

/** At shutdown of a configuration that started on it: true when it was the last user (the caller then stops the source). */
export function release(services: ProcessServices, shared: SharedCluster): boolean {
  shared.users--;
  if (shared.users > 0) return false;
  shared.stopped = true;
  const byKey = services.get(RUNNING);
  if (byKey.get(shared.key) === shared) byKey.delete(shared.key);
  return true;
}

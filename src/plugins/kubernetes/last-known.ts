/**
 * @module plugins/kubernetes/last-known
 * The last known cluster state across reloads. Each configuration has its
 * own store and source, so a reload while the API server is unreachable
 * would start with an empty, unsynced store and SERVFAIL every cluster name
 * until the API returned (found by the soak, bench/soak.ts). The process
 * keeps the newest store per source key; a new configuration whose kinds did
 * not sync within its startup wait is filled from it (kinds the previous one
 * had synced), so it serves what was last known. Its own source's first list
 * then replaces that state, as any list does.
 */
import type { ClusterStore } from '../../cluster/store.ts';
import type { ClusterKind, ClusterRecord, ClusterStateSink } from '../../cluster/types.ts';
import type { Logger } from '../../log/logger.ts';
import { ProcessSlot, type ProcessServices } from '../../plugin/process-services.ts';

const LAST_KNOWN = new ProcessSlot('kubernetes last known state', () => new Map<string, ClusterStore>());

function recordsOf(store: ClusterStore, kind: ClusterKind): Iterable<ClusterRecord> {
  switch (kind) {
    case 'Namespace': return store.namespaces();
    case 'Service': return store.services();
    case 'EndpointSlice': return store.slices();
    case 'Pod': return store.pods();
  }
}

/**
 * After the startup wait: the kinds `store` has not synced are filled
 * through `sink` from the previous store with the same source `key`, when it
 * had synced them. Then `store` is the one a later configuration starts
 * from. Returns how many objects were filled in.
 */
export function fillFromLastKnown(services: ProcessServices, key: string, store: ClusterStore, sink: ClusterStateSink, kinds: readonly ClusterKind[], log: Logger): number {
  const byKey = services.get(LAST_KNOWN);
  const previous = byKey.get(key);
  byKey.set(key, store);
  if (previous === undefined || previous === store) return 0;
  const missing = kinds.filter((k) => !store.isSynced(k) && previous.isSynced(k));
  if (missing.length === 0) return 0;
  const records = missing.flatMap((k) => [...recordsOf(previous, k)]);
  sink.replace(missing, records);
  for (const k of missing) sink.markSynced(k);
  log.warn(`Kubernetes API not synced after the reload: serving the last known ${missing.join(', ')} (${records.length} objects) until it is`);
  return records.length;
}

/** A configuration's shutdown: its store is let go unless it is still the newest (a removed kubernetes block frees it). */
export function forgetLastKnown(services: ProcessServices, key: string, store: ClusterStore): void {
  const byKey = services.get(LAST_KNOWN);
  if (byKey.get(key) === store) byKey.delete(key);
}

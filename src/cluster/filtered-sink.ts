/**
 * @module cluster/filtered-sink
 * Applies the `labels` selector (O6) between any source and the store:
 * Services, EndpointSlices and Pods that do not match do not exist for DNS;
 * Namespaces pass untouched. The API source also filters server-side; doing
 * it here as well makes every source (manifests, fixtures) behave the same,
 * and turns an update that drops a matching label into a delete.
 */
import type { LabelSelector } from './label-selector.ts';
import type { ClusterKind, ClusterRecord, ClusterStateSink, WatchEvent } from './types.ts';

export class LabelFilteredSink implements ClusterStateSink {
  readonly #inner: ClusterStateSink;
  readonly #selector: LabelSelector;

  constructor(inner: ClusterStateSink, selector: LabelSelector) {
    this.#inner = inner;
    this.#selector = selector;
  }

  #passes(r: ClusterRecord): boolean {
    return r.kind === 'Namespace' || this.#selector.matches(r.labels);
  }

  apply(event: WatchEvent): void {
    if (event.type !== 'DELETED' && !this.#passes(event.object)) {
      this.#inner.apply({ type: 'DELETED', object: event.object });
      return;
    }
    this.#inner.apply(event);
  }

  replace(kinds: readonly ClusterKind[], objects: readonly ClusterRecord[]): void {
    this.#inner.replace(kinds, objects.filter((o) => this.#passes(o)));
  }

  markSynced(kind: ClusterKind): void {
    this.#inner.markSynced(kind);
  }

  held(object: ClusterRecord): ClusterRecord {
    return this.#inner.held?.(object) ?? object;
  }
}

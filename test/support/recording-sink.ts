/**
 * @module test/support/recording-sink
 * An in-memory ClusterStateSink for tests: keeps the current records by kind
 * and key and a log of every call, so source tests do not depend on the DNS
 * store/index.
 */

import { recordKey } from '../../src/cluster/types.ts';
import type { ClusterKind, ClusterRecord, ClusterStateSink, WatchEvent } from '../../src/cluster/types.ts';

export type SinkCall =
  | { readonly op: 'apply'; readonly event: WatchEvent }
  | { readonly op: 'replace'; readonly kinds: readonly ClusterKind[]; readonly count: number }
  | { readonly op: 'markSynced'; readonly kind: ClusterKind };

export class RecordingSink implements ClusterStateSink {
  readonly state = new Map<ClusterKind, Map<string, ClusterRecord>>();
  readonly syncedKinds = new Set<ClusterKind>();
  readonly calls: SinkCall[] = [];

  apply(event: WatchEvent): void {
    this.calls.push({ op: 'apply', event });
    const map = this.mapFor(event.object.kind);
    if (event.type === 'DELETED') map.delete(recordKey(event.object));
    else map.set(recordKey(event.object), event.object);
  }

  replace(kinds: readonly ClusterKind[], objects: readonly ClusterRecord[]): void {
    this.calls.push({ op: 'replace', kinds, count: objects.length });
    for (const k of kinds) this.state.set(k, new Map());
    for (const o of objects) this.mapFor(o.kind).set(recordKey(o), o);
  }

  markSynced(kind: ClusterKind): void {
    this.calls.push({ op: 'markSynced', kind });
    this.syncedKinds.add(kind);
  }

  get(kind: ClusterKind, key: string): ClusterRecord | undefined {
    return this.state.get(kind)?.get(key);
  }

  has(kind: ClusterKind, key: string): boolean {
    return this.state.get(kind)?.has(key) ?? false;
  }

  keys(kind: ClusterKind): string[] {
    return [...(this.state.get(kind)?.keys() ?? [])].sort();
  }

  size(kind: ClusterKind): number {
    return this.state.get(kind)?.size ?? 0;
  }

  count(op: SinkCall['op']): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  private mapFor(kind: ClusterKind): Map<string, ClusterRecord> {
    let m = this.state.get(kind);
    if (m === undefined) {
      m = new Map();
      this.state.set(kind, m);
    }
    return m;
  }
}

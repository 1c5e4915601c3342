/**
 * @module dnsrecord/record-set
 * The DNSRecords a source delivers (manifests, the API reflector), and which
 * record owns each host. Two records claiming one host: the older one wins
 * (creationTimestamp, else the order they arrived in: file order for
 * manifests), the other is reported once per conflict as a log line and in
 * `conflicts()` (the API status writer turns that into a condition).
 * Every sink call is applied synchronously and listeners run after it, so
 * readers see the whole change or none of it.
 */
import type { RecordSink } from '../cluster/types.ts';
import { describeDnsRecord, dnsRecordKey, sameDnsRecord, type DnsRecord } from './record.ts';

export type DnsRecordKind = 'DNSRecord';

export interface HostConflict {
  readonly host: string;
  readonly winner: DnsRecord;
  readonly loser: DnsRecord;
}

export interface ConflictLogger {
  warn(msg: string): void;
}

interface Held {
  readonly record: DnsRecord;
  /** Arrival order, kept while the key exists: the tie-break for records without a timestamp. */
  readonly seq: number;
}

export class DnsRecordSet implements RecordSink<DnsRecordKind, DnsRecord> {
  readonly #held = new Map<string, Held>();
  readonly #listeners: (() => void)[] = [];
  readonly #log: ConflictLogger | null;
  #seq = 0;
  #synced = false;
  #winners = new Map<string, DnsRecord>();
  #conflicts: HostConflict[] = [];
  #reported = new Set<string>();
  /** Bumped on every real change (tests and the gateway wait on it). */
  version = 0;

  constructor(log: ConflictLogger | null = null) {
    this.#log = log;
  }

  apply(event: { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: DnsRecord }): void {
    const changed = event.type === 'DELETED' ? this.#held.delete(dnsRecordKey(event.object)) : this.#put(event.object);
    if (changed) this.#changed();
  }

  replace(_kinds: readonly DnsRecordKind[], objects: readonly DnsRecord[]): void {
    let changed = false;
    const keep = new Set<string>();
    for (const r of objects) {
      keep.add(dnsRecordKey(r));
      if (this.#put(r)) changed = true;
    }
    for (const key of [...this.#held.keys()]) {
      if (!keep.has(key)) { this.#held.delete(key); changed = true; }
    }
    if (changed || !this.#synced) this.#changed();
  }

  markSynced(): void {
    this.#synced = true;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Every record held, winners and losers. */
  records(): IterableIterator<DnsRecord> {
    return [...this.#held.values()].map((h) => h.record).values();
  }

  /** Host (canonical) -> the record that owns it. */
  winners(): ReadonlyMap<string, DnsRecord> {
    return this.#winners;
  }

  conflicts(): readonly HostConflict[] {
    return this.#conflicts;
  }

  /** Called after every real change; returns an unsubscribe. */
  subscribe(fn: () => void): () => void {
    this.#listeners.push(fn);
    return () => {
      const i = this.#listeners.indexOf(fn);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  #put(r: DnsRecord): boolean {
    const key = dnsRecordKey(r);
    const held = this.#held.get(key);
    if (held !== undefined && sameDnsRecord(held.record, r)) return false;
    this.#held.set(key, { record: r, seq: held?.seq ?? this.#seq++ });
    return true;
  }

  #changed(): void {
    this.#resolveHosts();
    this.version++;
    for (const fn of [...this.#listeners]) fn();
  }

  #resolveHosts(): void {
    const order = [...this.#held.values()].sort(olderFirst);
    const winners = new Map<string, DnsRecord>();
    const conflicts: HostConflict[] = [];
    for (const { record } of order) {
      const owner = winners.get(record.host);
      if (owner === undefined) winners.set(record.host, record);
      else conflicts.push({ host: record.host, winner: owner, loser: record });
    }
    const reported = new Set<string>();
    for (const c of conflicts) {
      const id = `${c.host}\0${dnsRecordKey(c.winner)}\0${dnsRecordKey(c.loser)}`;
      reported.add(id);
      if (!this.#reported.has(id)) this.#log?.warn(conflictMessage(c));
    }
    this.#winners = winners;
    this.#conflicts = conflicts;
    this.#reported = reported;
  }
}

function olderFirst(a: Held, b: Held): number {
  const ta = a.record.createdMs ?? Infinity;
  const tb = b.record.createdMs ?? Infinity;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.seq - b.seq;
}

/** The line logged (and the condition message) for a host claimed twice. */
export function conflictMessage(c: HostConflict): string {
  return `host ${c.host} is claimed by ${describeDnsRecord(c.loser)} (${c.loser.origin}) but ${describeDnsRecord(c.winner)} (${c.winner.origin}) is older and keeps it; ${describeDnsRecord(c.loser)} is ignored`;
}

/**
 * @module dnsrecord/etcd-source
 * DNSRecords from etcd, through the shared prefix watcher (cluster/etcd):
 * under one prefix (default `/dns/`) a key holds either a JSON DNSRecord
 * (the CRD form or the seed's `kind: DNS` form), or the seed's plain host
 * key: `/dns/com/node1` = `{"host":"GATEWAY"}`, the name written backwards
 * below the prefix as SkyDNS does. A host key gives its host's gateway to
 * the record of that host that has none, and alone makes a DNS-only record
 * (no paths: answered by the plugin, not routed by the gateway). Every change
 * hands the whole merged set to the sink; an unreadable value is logged with
 * its key, counted (`onBadValue`) and skipped, the key keeping its last good
 * value; an unreachable etcd keeps the records delivered last.
 */
import { canonicalIp } from '../dns/ip.ts';
import type { EtcdConnection } from '../cluster/etcd/connection.ts';
import { PrefixWatcher, type EtcdKv } from '../cluster/etcd/prefix-watcher.ts';
import type { RecordSink } from '../cluster/types.ts';
import { within } from '../cluster/within.ts';
import type { Logger } from '../log/logger.ts';
import { convertDnsRecord, HOST_PATTERN, type DnsRecord } from './record.ts';
import type { DnsRecordKind } from './record-set.ts';
import { errorMessage } from '../errors/to-error.ts';

export const DEFAULT_ETCD_PREFIX = '/dns/';
/** Namespace of the DNS-only records made from host keys. */
export const ETCD_HOST_NAMESPACE = 'etcd';

export interface DnsRecordEtcdOptions {
  readonly endpoints: readonly string[];
  readonly prefix?: string;
  readonly logger: Logger;
  /** Told about each value rejected (coredns_dnsrecord_invalid_records_total{source="etcd"}). */
  readonly onBadValue?: (key: string) => void;
}

type Parsed = { readonly record: DnsRecord } | { readonly host: string; readonly gateway: string } | { readonly error: string };
type Good = Exclude<Parsed, { readonly error: string }>;

/** `/dns/com/node1` under `/dns/` -> `node1.com.`, or null when the key is not a host name. */
export function hostOfKey(key: string, prefix: string): string | null {
  const labels = key.slice(prefix.length).split('/').filter((l) => l !== '');
  const host = labels.reverse().join('.');
  return host !== '' && HOST_PATTERN.test(host) ? `${host.toLowerCase()}.` : null;
}

/** One etcd value: a DNSRecord, a host key, or why it is neither. */
export function parseEtcdValue(kv: Pick<EtcdKv, 'key' | 'value'>, prefix: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(kv.value.toString('utf8'));
  } catch (e) {
    return { error: `${kv.key}: not JSON (${errorMessage(e)})` };
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (o.kind !== undefined) {
    const c = convertDnsRecord(v, `etcd ${kv.key}`);
    return c.error !== undefined ? { error: `${kv.key}: ${c.error}` } : { record: c.record };
  }
  const host = hostOfKey(kv.key, prefix);
  const gateway = typeof o.host === 'string' ? canonicalIp(o.host) : null;
  if (host === null || gateway === null) return { error: `${kv.key}: neither a DNSRecord (kind) nor a host key {"host": ADDRESS} under a host-name path` };
  return { host, gateway };
}

export class DnsRecordEtcdSource {
  readonly kinds: readonly DnsRecordKind[] = ['DNSRecord'];
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #connection: EtcdConnection;
  readonly #onBadValue: (key: string) => void;
  readonly #values = new Map<string, Good>();
  /** Keys whose value was last rejected, with that value's revision: a relist does not report it again. */
  readonly #bad = new Map<string, number>();
  #watcher: PrefixWatcher | null = null;
  #sink: RecordSink<DnsRecordKind, DnsRecord> | null = null;
  #synced = false;
  #markSynced: () => void = () => {};
  readonly #firstSnapshot = new Promise<void>((resolve) => { this.#markSynced = resolve; });

  constructor(opts: DnsRecordEtcdOptions) {
    this.#prefix = opts.prefix ?? DEFAULT_ETCD_PREFIX;
    this.#log = opts.logger;
    this.#connection = { endpoints: opts.endpoints };
    this.#onBadValue = opts.onBadValue ?? (() => {});
  }

  start(sink: RecordSink<DnsRecordKind, DnsRecord>): void {
    if (this.#watcher !== null) return;
    this.#sink = sink;
    this.#watcher = new PrefixWatcher({ connection: this.#connection, prefix: this.#prefix, log: this.#log }, {
      onSnapshot: (kvs) => {
        // A relist replaces everything, except that a key now unreadable keeps its last good value.
        const before = new Map(this.#values);
        this.#values.clear();
        for (const kv of kvs) {
          const old = before.get(kv.key);
          if (old !== undefined) this.#values.set(kv.key, old);
          this.#set(kv);
        }
        this.#deliver();
        if (!this.#synced) {
          this.#synced = true;
          sink.markSynced('DNSRecord');
          this.#markSynced();
        }
      },
      onPut: (kv) => { this.#set(kv); this.#deliver(); },
      onDelete: (key) => { this.#bad.delete(key); if (this.#values.delete(key)) this.#deliver(); },
    });
    this.#watcher.start();
  }

  async stop(): Promise<void> {
    await this.#watcher?.stop();
  }

  /** Resolves true once the first snapshot arrived, false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    return this.#synced ? Promise.resolve(true) : within(this.#firstSnapshot, timeoutMs);
  }

  #set(kv: EtcdKv): void {
    const p = parseEtcdValue(kv, this.#prefix);
    if ('error' in p) {
      // Garbage never removes what a good value served: the key keeps its last good meaning.
      if (this.#bad.get(kv.key) === kv.modRevision) return;
      this.#bad.set(kv.key, kv.modRevision);
      this.#log.warn(`etcd ${p.error}; ${this.#values.has(kv.key) ? 'keeping its previous value' : 'ignored'}`);
      this.#onBadValue(kv.key);
      return;
    }
    this.#bad.delete(kv.key);
    this.#values.set(kv.key, p);
  }

  /** The merged set: records (with host-key gateways filled in) and DNS-only records for lone host keys. */
  #deliver(): void {
    const gateways = new Map<string, { key: string; gateway: string }>();
    const records: DnsRecord[] = [];
    for (const [key, p] of this.#values) {
      if ('host' in p) gateways.set(p.host, { key, gateway: p.gateway });
      else records.push(p.record);
    }
    const claimed = new Set(records.map((r) => r.host));
    const merged = records.map((r) => {
      const g = gateways.get(r.host);
      return r.gateway === null && g !== undefined ? { ...r, gateway: { address: g.gateway } } : r;
    });
    for (const [host, g] of gateways) {
      if (claimed.has(host)) continue;
      merged.push({
        kind: 'DNSRecord', namespace: ETCD_HOST_NAMESPACE, name: g.key, host, gateway: { address: g.gateway },
        paths: [], createdMs: null, origin: `etcd ${g.key}`, accepted: null,
      });
    }
    this.#sink?.replace(this.kinds, merged);
  }
}

/**
 * @module dnsrecord/api-source
 * DNSRecords from the live API: one Reflector (the one the kubernetes plugin
 * runs for Services) on /apis/clusterdns.io/v1alpha1/dnsrecords, with the
 * DNSRecord converter as its codec, plus the Services (and EndpointSlices)
 * that records point at, with the cluster converters. Same connection choice (kubeconfig >
 * endpoint > in-cluster), same list/watch/relist loop, same outage
 * behaviour: an unreachable API server means serving the last records and
 * retrying with backoff, one error line per period. A new version of a
 * record that fails validation does not remove it: the record keeps its last
 * good version (one WARNING naming the object, counted by `onBadRecord`),
 * through a list too; only a delete removes it.
 * Loads @kubernetes/client-node (through cluster/api/source): import lazily.
 */
import { KubeApiClient } from '../cluster/api/client.ts';
import { ErrorLogGate } from '../cluster/api/error-log-gate.ts';
import { RetryGroup } from '../cluster/api/retry-group.ts';
import { Reflector, type BackoffOptions, type Logger, type RecordCodec } from '../cluster/api/reflector.ts';
import { resolveConnection } from '../cluster/api/connection.ts';
import { objectMeta } from '../cluster/api/convert.ts';
import { within } from '../cluster/within.ts';
import type { ClusterStateSink, ClusterKind, RecordSink } from '../cluster/types.ts';
import { convertDnsRecord, DEFAULT_NAMESPACE, DNSRECORD_API_VERSION, dnsRecordKey, placeholderDnsRecord, type DnsRecord } from './record.ts';
import type { DnsRecordKind } from './record-set.ts';

export const DNSRECORD_PATH = `/apis/${DNSRECORD_API_VERSION}/dnsrecords`;

export interface DnsRecordApiOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly endpoint?: string;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
  readonly watchTimeoutSeconds?: number;
  /** Also watch EndpointSlices (the gateway's --endpoints). */
  readonly endpointSlices?: boolean;
  /** Told once per new bad version of a DNSRecord (coredns_dnsrecord_invalid_records_total{source="api"}). */
  readonly onBadRecord?: (key: string) => void;
}

const CLUSTER_PATHS: Readonly<Partial<Record<ClusterKind, string>>> = {
  Service: '/api/v1/services',
  EndpointSlice: '/apis/discovery.k8s.io/v1/endpointslices',
};

/**
 * The records held, by namespace/name, and a codec that answers a bad
 * version of one of them with the version held: the reflector then neither
 * deletes it (watch) nor leaves it out (list). A bad object never seen good
 * is the reflector's to skip and log, and is counted here.
 */
class LastGoodRecords implements RecordSink<DnsRecordKind, DnsRecord> {
  readonly #sink: RecordSink<DnsRecordKind, DnsRecord>;
  readonly #log: Logger;
  readonly #onBad: (key: string) => void;
  readonly #held = new Map<string, DnsRecord>();
  /** Objects whose last version was rejected, with that resourceVersion (each bad version reported once). */
  readonly #bad = new Map<string, string | null>();

  constructor(sink: RecordSink<DnsRecordKind, DnsRecord>, log: Logger, onBad: (key: string) => void) {
    this.#sink = sink;
    this.#log = log;
    this.#onBad = onBad;
  }

  readonly codec: RecordCodec<DnsRecord> = {
    convert: (o) => {
      const r = convertDnsRecord(o, 'api');
      const meta = objectMeta(o);
      const key = dnsRecordKey({ namespace: meta.namespace !== '' ? meta.namespace : DEFAULT_NAMESPACE, name: meta.name });
      if (r.error === undefined) {
        if (this.#bad.delete(key)) this.#log.info(`DNSRecord ${key}: valid again`);
        return r;
      }
      const held = this.#held.get(key);
      const seen = this.#bad.has(key) && this.#bad.get(key) === meta.resourceVersion;
      if (!seen) {
        this.#bad.set(key, meta.resourceVersion);
        this.#onBad(key);
        if (held !== undefined) this.#log.warn(`${r.error}; keeping its previous version`);
      }
      return held !== undefined ? { record: held } : r;
    },
    placeholder: placeholderDnsRecord,
  };

  apply(event: { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: DnsRecord }): void {
    const key = dnsRecordKey(event.object);
    if (event.type === 'DELETED') { this.#held.delete(key); this.#bad.delete(key); } else this.#held.set(key, event.object);
    this.#sink.apply(event);
  }

  replace(kinds: readonly DnsRecordKind[], objects: readonly DnsRecord[]): void {
    this.#held.clear();
    for (const r of objects) this.#held.set(dnsRecordKey(r), r);
    this.#sink.replace(kinds, objects);
  }

  markSynced(kind: DnsRecordKind): void {
    this.#sink.markSynced(kind);
  }
}

export class DnsRecordApiSource {
  readonly kinds: readonly DnsRecordKind[] = ['DNSRecord'];
  readonly server: string;
  /** Cluster kinds delivered to the second sink. */
  readonly clusterKinds: readonly ClusterKind[];
  readonly #opts: DnsRecordApiOptions;
  readonly #client: KubeApiClient;
  readonly #errorLog: ErrorLogGate;
  /** Its reflectors share one server: one that reconnects makes the others retry at once. */
  readonly #retryGroup = new RetryGroup();
  #records: Reflector<DnsRecordKind, DnsRecord> | null = null;
  #cluster: Reflector[] = [];

  /** Throws on configuration errors (no kubeconfig, not in a cluster); connection errors are retried later. */
  constructor(opts: DnsRecordApiOptions) {
    const kc = resolveConnection({
      ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context !== undefined ? { context: opts.context } : {}),
      ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    });
    this.#opts = opts;
    this.#client = new KubeApiClient(kc);
    this.server = this.#client.server;
    // One gate for every kind: an outage is one error line per period, not one per kind.
    this.#errorLog = new ErrorLogGate(opts.backoff?.maxMs ?? 30_000);
    this.clusterKinds = opts.endpointSlices === true ? ['Service', 'EndpointSlice'] : ['Service'];
  }

  #common(): { transport: KubeApiClient; server: string; logger: Logger; errorLog: ErrorLogGate; retryGroup: RetryGroup; backoff?: BackoffOptions; watchTimeoutSeconds?: number } {
    const o = this.#opts;
    return {
      transport: this.#client, server: this.server, logger: o.logger, errorLog: this.#errorLog, retryGroup: this.#retryGroup,
      ...(o.backoff !== undefined ? { backoff: o.backoff } : {}),
      ...(o.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: o.watchTimeoutSeconds } : {}),
    };
  }

  start(records: RecordSink<DnsRecordKind, DnsRecord>, cluster: ClusterStateSink): void {
    if (this.#records !== null) return;
    const lastGood = new LastGoodRecords(records, this.#opts.logger, this.#opts.onBadRecord ?? (() => {}));
    this.#records = new Reflector<DnsRecordKind, DnsRecord>({
      ...this.#common(), resource: { kind: 'DNSRecord', path: DNSRECORD_PATH }, sink: lastGood, codec: lastGood.codec,
    });
    this.#cluster = this.clusterKinds.map((kind) => new Reflector({ ...this.#common(), resource: { kind, path: CLUSTER_PATHS[kind]! }, sink: cluster }));
    this.#records.start();
    for (const r of this.#cluster) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#records?.stop(), ...this.#cluster.map((r) => r.stop())]);
  }

  /** Merge-patches a DNSRecord's status subresource (the gateway controller's conditions). */
  async patchStatus(namespace: string, name: string, patch: unknown): Promise<void> {
    const path = `/apis/${DNSRECORD_API_VERSION}/namespaces/${encodeURIComponent(namespace)}/dnsrecords/${encodeURIComponent(name)}/status`;
    await this.#client.mergePatch(path, patch, AbortSignal.timeout(30_000));
  }

  get connected(): boolean {
    return (this.#records?.connected ?? false) && this.#cluster.every((r) => r.connected);
  }

  /** Resolves true once the first list arrived, false after `timeoutMs`. */
  async waitForSync(timeoutMs: number): Promise<boolean> {
    const r = this.#records;
    if (r === null) return false;
    return within(Promise.all([r.whenSynced, ...this.#cluster.map((c) => c.whenSynced)]), timeoutMs);
  }
}

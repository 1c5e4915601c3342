/**
 * @module dnsrecord/api-source
 * DNSRecords from the live API: one Reflector (the one the kubernetes plugin
 * runs for Services) on /apis/clusterdns.io/v1alpha1/dnsrecords, with the
 * DNSRecord converter as its codec, plus the Services (and EndpointSlices)
 * that records point at, with the cluster converters. Same connection choice (kubeconfig >
 * endpoint > in-cluster), same list/watch/relist loop, same outage
 * behaviour: an unreachable API server means serving the last records and
 * retrying with backoff, one error line per period.
 * Loads @kubernetes/client-node (through cluster/api/source): import lazily.
 */
import { KubeApiClient } from '../cluster/api/client.ts';
import { ErrorLogGate } from '../cluster/api/error-log-gate.ts';
import { Reflector, type BackoffOptions, type Logger, type RecordCodec } from '../cluster/api/reflector.ts';
import { resolveConnection } from '../cluster/api/connection.ts';
import { within } from '../cluster/within.ts';
import type { ClusterStateSink, ClusterKind, RecordSink } from '../cluster/types.ts';
import { convertDnsRecord, DNSRECORD_API_VERSION, placeholderDnsRecord, type DnsRecord } from './record.ts';
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
}

const CLUSTER_PATHS: Readonly<Partial<Record<ClusterKind, string>>> = {
  Service: '/api/v1/services',
  EndpointSlice: '/apis/discovery.k8s.io/v1/endpointslices',
};

const CODEC: RecordCodec<DnsRecord> = {
  convert: (o) => convertDnsRecord(o, 'api'),
  placeholder: placeholderDnsRecord,
};

export class DnsRecordApiSource {
  readonly kinds: readonly DnsRecordKind[] = ['DNSRecord'];
  readonly server: string;
  /** Cluster kinds delivered to the second sink. */
  readonly clusterKinds: readonly ClusterKind[];
  readonly #opts: DnsRecordApiOptions;
  readonly #client: KubeApiClient;
  readonly #errorLog: ErrorLogGate;
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

  #common(): { transport: KubeApiClient; server: string; logger: Logger; errorLog: ErrorLogGate; backoff?: BackoffOptions; watchTimeoutSeconds?: number } {
    const o = this.#opts;
    return {
      transport: this.#client, server: this.server, logger: o.logger, errorLog: this.#errorLog,
      ...(o.backoff !== undefined ? { backoff: o.backoff } : {}),
      ...(o.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: o.watchTimeoutSeconds } : {}),
    };
  }

  start(records: RecordSink<DnsRecordKind, DnsRecord>, cluster: ClusterStateSink): void {
    if (this.#records !== null) return;
    this.#records = new Reflector<DnsRecordKind, DnsRecord>({
      ...this.#common(), resource: { kind: 'DNSRecord', path: DNSRECORD_PATH }, sink: records, codec: CODEC,
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

/**
 * @module dnsrecord/feeds
 * What the dnsrecord plugin and the gateway controller both watch: the
 * DNSRecords of one source (manifest files/folders, the live API, or etcd)
 * and the Services (plus EndpointSlices for the gateway's --endpoints) that
 * records name as gateway or backend, read from the same place (etcd has
 * none: its records use fixed addresses). One object so both
 * consumers start, wait for and stop their sources the same way.
 */
import { ManifestSource } from '../cluster/manifests/manifest-source.ts';
import { ClusterStore } from '../cluster/store.ts';
import type { ClusterKind } from '../cluster/types.ts';
import type { Logger } from '../log/logger.ts';
import { dnsRecordManifestSource } from './manifest-files.ts';
import { DnsRecordSet } from './record-set.ts';
import type { StatusPatcher } from './status-writer.ts';

export type DnsRecordSourceConfig =
  | { readonly manifests: readonly string[] }
  | { readonly api: { readonly kubeconfig?: string; readonly context?: string; readonly endpoint?: string } }
  | { readonly etcd: { readonly endpoints: readonly string[]; readonly prefix?: string } };

/** A source of DNSRecords that reports invalid ones (files report per file: onFileError). */
export type DnsRecordSourceName = 'api' | 'etcd';

export interface DnsRecordFeedsOptions {
  readonly source: DnsRecordSourceConfig;
  readonly logger: Logger;
  /** Also read EndpointSlices (the gateway's --endpoints). */
  readonly endpointSlices?: boolean;
  /** Manifest poll interval (default 5000 ms; fs.watch sees most changes at once). */
  readonly pollIntervalMs?: number;
  /** Told once per new failure of a manifest file (its records stay served): the dnsrecord plugin's counter. */
  readonly onFileError?: (file: string) => void;
  /** Told once per new bad version of an API object or etcd key (its last good version stays served). */
  readonly onBadRecord?: (source: DnsRecordSourceName, key: string) => void;
}

interface Running {
  stop(): Promise<void> | void;
  waitForSync(timeoutMs: number): Promise<boolean>;
}

export class DnsRecordFeeds {
  readonly records: DnsRecordSet;
  /** Services and EndpointSlices named by the records. */
  readonly cluster = new ClusterStore();
  readonly #opts: DnsRecordFeedsOptions;
  #running: Running[] = [];
  /** Manifest files that could not be used, once per new failure (their records stay served). */
  fileErrors = 0;
  /** API objects and etcd keys rejected, once per new bad version (their last good versions stay served). */
  badRecords = 0;
  /** Writes a record's status, when the records come from the API (null otherwise, and before start). */
  statusPatcher: StatusPatcher | null = null;

  constructor(opts: DnsRecordFeedsOptions) {
    this.#opts = opts;
    this.records = new DnsRecordSet(opts.logger);
  }

  /** Starts reading. Throws on configuration errors (a bad kubeconfig); connection errors are retried. */
  async start(): Promise<void> {
    if (this.#running.length > 0) return;
    const o = this.#opts;
    const onBadRecord = (source: DnsRecordSourceName) => (key: string): void => { this.badRecords++; o.onBadRecord?.(source, key); };
    const kinds: ClusterKind[] = o.endpointSlices === true ? ['Service', 'EndpointSlice'] : ['Service'];
    if ('manifests' in o.source) {
      const poll = o.pollIntervalMs !== undefined ? { pollIntervalMs: o.pollIntervalMs } : {};
      const onFileError = (file: string): void => { this.fileErrors++; o.onFileError?.(file); };
      const records = dnsRecordManifestSource({ paths: o.source.manifests, logger: o.logger, onFileError, ...poll });
      // Services beside the records; every other kind belongs to the kubernetes plugin, and so do its warnings.
      // A broken file is reported once, by the records' source, which reads the same files.
      const services = new ManifestSource({ paths: o.source.manifests, kinds, logger: silent, ...poll });
      records.start(this.records);
      services.start(this.cluster);
      this.#running = [records, services];
      return;
    }
    if ('etcd' in o.source) {
      const { DnsRecordEtcdSource } = await import('./etcd-source.ts');
      const etcd = new DnsRecordEtcdSource({ ...o.source.etcd, logger: o.logger, onBadValue: onBadRecord('etcd') });
      o.logger.info(`watching DNSRecords in etcd ${o.source.etcd.endpoints.join(', ')} under ${o.source.etcd.prefix ?? '/dns/'}`);
      etcd.start(this.records);
      // No Services in etcd: the cluster part is complete (and empty) from the start.
      for (const k of kinds) this.cluster.markSynced(k);
      this.#running = [etcd];
      return;
    }
    // Loaded only now: @kubernetes/client-node costs ~90 MB.
    const { DnsRecordApiSource } = await import('./api-source.ts');
    const api = new DnsRecordApiSource({ ...o.source.api, logger: o.logger, endpointSlices: o.endpointSlices === true, onBadRecord: onBadRecord('api') });
    o.logger.info(`watching DNSRecords and ${api.clusterKinds.join(', ')} at ${api.server}`);
    api.start(this.records, this.cluster);
    this.statusPatcher = (namespace, name, patch) => api.patchStatus(namespace, name, patch);
    this.#running = [api];
  }

  async stop(): Promise<void> {
    await Promise.all(this.#running.map((r) => r.stop()));
    this.#running = [];
  }

  /** Resolves true once every source delivered its first read, false after `timeoutMs`. */
  async waitForSync(timeoutMs: number): Promise<boolean> {
    const all = await Promise.all(this.#running.map((r) => r.waitForSync(timeoutMs)));
    return all.length > 0 && all.every(Boolean);
  }

  /** Called after any change of records or Services; returns an unsubscribe. */
  subscribe(fn: () => void): () => void {
    const a = this.records.subscribe(fn);
    const b = this.cluster.subscribe(() => fn());
    return () => { a(); b(); };
  }
}

/** No log lines: the Services' reader would repeat what the records' reader and the kubernetes plugin say. */
const silent: Logger = {
  debug() {}, info() {}, warn() {}, error() {}, line() {}, record() {},
  plugin: () => silent, structured: false,
};

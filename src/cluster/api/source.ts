/**
 * @module cluster/api/source
 * The live cluster-state source: one Reflector per kind (Namespace, Service,
 * and EndpointSlice / Pod when enabled) against the Kubernetes API. The
 * connection is chosen as CoreDNS does: a kubeconfig file (optionally a
 * context) if given, else an explicit endpoint URL, else in-cluster config
 * (KUBERNETES_SERVICE_HOST/PORT plus the service-account token and CA).
 * @kubernetes/client-node is used for configuration and authentication only;
 * it costs ~90 MB RSS to load, so the kubernetes plugin imports this module
 * only when it really creates an API source.
 */

import { joinHostPort } from '../../dns/ip.ts';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterKind, ClusterStateSink, ClusterStateSource } from '../types.ts';
import { KubeApiClient } from './client.ts';
import type { ApiTransport, RestClientObserver } from './client.ts';
import { ErrorLogGate } from './error-log-gate.ts';
import { Reflector } from './reflector.ts';
import type { BackoffOptions, Logger, ReflectorEvents, ReflectorStatus, ResourceSpec } from './reflector.ts';
import { RequestLimiter } from './request-limiter.ts';
import type { RequestLimits } from './request-limiter.ts';

/** Pods DNS may answer for: not finished (same selector as CoreDNS). */
export const POD_FIELD_SELECTOR = 'status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubernetesApiSourceOptions {
  /** Path of a kubeconfig file; takes precedence over everything else. */
  readonly kubeconfig?: string;
  /** Context in the kubeconfig (default: its current-context). */
  readonly context?: string | undefined;
  /** API server URL used without credentials when no kubeconfig is given. */
  readonly endpoint?: string;
  /** Label selector applied to services, endpointslices and pods. */
  readonly labels?: string | undefined;
  readonly watchPods: boolean;
  readonly watchEndpoints: boolean;
  readonly backoff?: BackoffOptions;
  readonly logger: Logger;
  /** List page size (default 500). */
  readonly pageSize?: number;
  /** Server-side watch timeout in seconds (default 300). */
  readonly watchTimeoutSeconds?: number;
  /** At most one error line per kind per this period (default: backoff cap). */
  readonly errorLogIntervalMs?: number;
  /** In-cluster service-account directory holding `token` and `ca.crt`. */
  readonly serviceAccountDir?: string | undefined;
  /** Environment used for in-cluster discovery (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** apiserver_qps / apiserver_burst / apiserver_max_inflight (default: no client-side limit). */
  readonly limits?: RequestLimits;
  /** Sees every request (rest_client metrics); made for the server's host. */
  readonly clientObserver?: (host: string) => RestClientObserver;
  /** Relists and reconnects of every reflector (metrics counters). */
  readonly events?: ReflectorEvents;
}

type ConnectionOptions = Pick<KubernetesApiSourceOptions, 'kubeconfig' | 'context' | 'endpoint' | 'serviceAccountDir' | 'env'>;

/**
 * Builds the KubeConfig for the given options (kubeconfig > endpoint > in-cluster).
 * Throws on configuration errors (unreadable kubeconfig, unknown context, not in a cluster).
 */
export function loadKubeConfig(opts: ConnectionOptions): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig !== undefined && opts.kubeconfig !== '') {
    kc.loadFromFile(opts.kubeconfig);
    if (opts.context !== undefined && opts.context !== '') {
      if (kc.getContextObject(opts.context) === null) {
        throw new Error(`kubeconfig ${opts.kubeconfig}: context "${opts.context}" not found`);
      }
      kc.setCurrentContext(opts.context);
    }
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error(`kubeconfig ${opts.kubeconfig}: no cluster for the current context`);
    if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
      // Plain HTTP (e.g. kubectl proxy) has no TLS to verify, but the library refuses http: without this flag.
      kc.clusters = kc.clusters.map((c) => (c === cluster ? { ...c, skipTLSVerify: true } : c));
    }
    return kc;
  }
  if (opts.endpoint !== undefined && opts.endpoint !== '') {
    let url: URL;
    try {
      url = new URL(opts.endpoint);
    } catch {
      throw new Error(`invalid endpoint URL ${JSON.stringify(opts.endpoint)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`endpoint ${opts.endpoint}: scheme must be http or https`);
    // Plain HTTP has no TLS to verify; the library refuses http: unless skipTLSVerify is set.
    kc.loadFromClusterAndUser(
      { name: 'endpoint', server: opts.endpoint.replace(/\/+$/, ''), skipTLSVerify: url.protocol === 'http:' },
      { name: 'endpoint' },
    );
    return kc;
  }
  const env = opts.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new Error('not running in a cluster (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset); set kubeconfig or endpoint');
  }
  const dir = opts.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  // Same shape as KubeConfig.loadFromCluster(), with a configurable directory; always https as client-go.
  const server = `https://${joinHostPort(host, port)}`;
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server, caFile: path.join(dir, 'ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: path.join(dir, 'token') } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser' }],
    currentContext: 'inClusterContext',
  });
  return kc;
}

/** The resources watched for these options, in delivery order. */
export function resourceSpecs(opts: Pick<KubernetesApiSourceOptions, 'labels' | 'watchPods' | 'watchEndpoints'>): ResourceSpec[] {
  const labelSelector = opts.labels !== undefined && opts.labels !== '' ? opts.labels : undefined;
  const specs: ResourceSpec[] = [
    { kind: 'Namespace', path: '/api/v1/namespaces' },
    { kind: 'Service', path: '/api/v1/services', labelSelector },
  ];
  if (opts.watchEndpoints) specs.push({ kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices', labelSelector });
  if (opts.watchPods) specs.push({ kind: 'Pod', path: '/api/v1/pods', labelSelector, fieldSelector: POD_FIELD_SELECTOR });
  return specs;
}

export class KubernetesApiSource implements ClusterStateSource {
  readonly kinds: readonly ClusterKind[];
  /** API server URL in use. */
  readonly server: string;
  /** host[:port] of the API server (the metrics' `host` label). */
  readonly host: string;
  /** The client-side limiter, when limits were given. */
  readonly limiter: RequestLimiter | null;
  private readonly options: KubernetesApiSourceOptions;
  private readonly transport: ApiTransport;
  private readonly specs: readonly ResourceSpec[];
  private reflectors: Reflector[] = [];

  /** Throws on configuration errors; connection errors happen later and are retried. */
  constructor(options: KubernetesApiSourceOptions) {
    this.options = options;
    const kc = loadKubeConfig(options);
    this.limiter = options.limits === undefined ? null : RequestLimiter.from(options.limits);
    const server = kc.getCurrentCluster()?.server ?? '';
    this.host = URL.canParse(server) ? new URL(server).host : server;
    const client = new KubeApiClient(kc, { limiter: this.limiter, observer: options.clientObserver?.(this.host) ?? null });
    this.server = client.server;
    this.transport = client;
    this.specs = resourceSpecs(options);
    this.kinds = this.specs.map((s) => s.kind);
  }

  start(sink: ClusterStateSink): void {
    if (this.reflectors.length > 0) return;
    const o = this.options;
    this.options.logger.info(`kubernetes: watching ${this.kinds.join(', ')} at ${this.server}`);
    // One gate for every kind: an outage is one error line per period, not one per kind.
    const errorLog = new ErrorLogGate(o.errorLogIntervalMs ?? o.backoff?.maxMs ?? 30_000);
    this.reflectors = this.specs.map(
      (resource) =>
        new Reflector({
          transport: this.transport, server: this.server, resource, sink, logger: o.logger, pageSize: o.pageSize,
          watchTimeoutSeconds: o.watchTimeoutSeconds, backoff: o.backoff, errorLog, events: o.events,
        }),
    );
    for (const r of this.reflectors) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.stop()));
  }

  /** Every kind has delivered its first list. */
  get synced(): boolean {
    return this.reflectors.length > 0 && this.reflectors.every((r) => r.synced);
  }

  /** Every reflector's last request succeeded. */
  get connected(): boolean {
    return this.reflectors.length > 0 && this.reflectors.every((r) => r.connected);
  }

  /** Per-kind state for metrics and readiness. */
  status(): ReflectorStatus[] {
    return this.reflectors.map((r) => r.status());
  }

  /**
   * Seconds the last known state has been served without the API server:
   * since the earliest failure of a synced kind that has not reconnected
   * since; 0 while every kind is connected (or none has data yet).
   */
  staleSeconds(now: number = Date.now()): number {
    let since = Infinity;
    for (const st of this.status()) {
      if (st.synced && !st.connected && st.disconnectedSince !== null) since = Math.min(since, st.disconnectedSince);
    }
    return since === Infinity ? 0 : Math.max(0, (now - since) / 1000);
  }

  /** Resolves true once synced, false if `timeoutMs` passes first (or the source was never started). */
  async waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.reflectors.length === 0) return false;
    if (this.synced) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    });
    const all = Promise.all(this.reflectors.map((r) => r.whenSynced)).then(() => true);
    try {
      return await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

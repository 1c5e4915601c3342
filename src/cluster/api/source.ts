/**
 * @module cluster/api/source
 * The live cluster-state source: one Reflector per kind (Namespace, Service,
 * and EndpointSlice / Pod when enabled) against the Kubernetes API. The
 * connection is chosen as CoreDNS does (connection.ts): a kubeconfig file
 * (optionally a context) if given, else an explicit endpoint URL, else
 * in-cluster config (KUBERNETES_SERVICE_HOST/PORT plus the service-account
 * token and CA). @kubernetes/client-node is loaded only for a kubeconfig.
 */

import { resolveConnection } from './connection.ts';
import type { ClusterKind, ClusterStateSink, ClusterStateSource } from '../types.ts';
import { KubeApiClient } from './client.ts';
import type { ApiTransport, RestClientObserver } from './client.ts';
import { ErrorLogGate } from './error-log-gate.ts';
import { Reflector } from './reflector.ts';
import { RetryGroup } from './retry-group.ts';
import type { BackoffOptions, Logger, ReflectorEvents, ReflectorStatus, ResourceSpec } from './reflector.ts';
import { RequestLimiter } from './request-limiter.ts';
import type { RequestLimits } from './request-limiter.ts';

/** Pods DNS may answer for: not finished (same selector as CoreDNS). */
export const POD_FIELD_SELECTOR = 'status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown';

export { DEFAULT_SERVICE_ACCOUNT_DIR } from './connection.ts';

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
    const connection = resolveConnection(options);
    this.limiter = options.limits === undefined ? null : RequestLimiter.from(options.limits);
    const server = connection.server;
    this.host = URL.canParse(server) ? new URL(server).host : server;
    const client = new KubeApiClient(connection, { limiter: this.limiter, observer: options.clientObserver?.(this.host) ?? null });
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
    const retryGroup = new RetryGroup();
    this.reflectors = this.specs.map(
      (resource) =>
        new Reflector({
          transport: this.transport, server: this.server, resource, sink, logger: o.logger, pageSize: o.pageSize,
          watchTimeoutSeconds: o.watchTimeoutSeconds, backoff: o.backoff, errorLog, retryGroup, events: o.events,
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

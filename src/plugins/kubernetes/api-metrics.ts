/**
 * @module plugins/kubernetes/api-metrics
 * Metrics of the live API source. CoreDNS's client metrics with its names,
 * labels, help and buckets (prometheus.DefBuckets):
 * coredns_kubernetes_rest_client_requests_total{code,method,host},
 * coredns_kubernetes_rest_client_request_duration_seconds{verb,host},
 * coredns_kubernetes_rest_client_rate_limiter_duration_seconds{verb,host};
 * `verb` and `method` are the HTTP method ("GET"), as client-go reports them.
 * And the state CoreDNS does not export, in the same style, per watched
 * resource: coredns_kubernetes_api_{connected,synced,last_sync_timestamp_seconds}
 * (read from the running sources at scrape time), _relists_total and
 * _reconnects_total, and coredns_kubernetes_stale_seconds. All process-wide:
 * counters survive reloads; gauges follow whichever sources run.
 */
import { Counter, Gauge, Histogram } from '../../metrics/prom-client.ts';
import type { RestClientObserver } from '../../cluster/api/client.ts';
import type { ReflectorEvents, ReflectorStatus } from '../../cluster/api/reflector.ts';
import type { ClusterKind } from '../../cluster/types.ts';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

/** Prometheus's DefBuckets, which CoreDNS uses for both client histograms. */
const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The `resource` label: the API's plural resource name, as client-go's reflector metrics. */
export const RESOURCE_OF_KIND: Readonly<Record<ClusterKind, string>> = {
  Namespace: 'namespaces', Service: 'services', EndpointSlice: 'endpointslices', Pod: 'pods',
};

/** What the gauges read from a running API source. */
export interface LiveSourceState {
  status(): ReflectorStatus[];
  staleSeconds(now?: number): number;
}

export interface ApiMetrics {
  readonly requests: Counter<'code' | 'method' | 'host'>;
  readonly requestDuration: Histogram<'verb' | 'host'>;
  readonly rateLimiterDuration: Histogram<'verb' | 'host'>;
  readonly relists: Counter<'resource'>;
  readonly reconnects: Counter<'resource'>;
  /** Sources running now (several blocks, or two configurations during a reload). */
  readonly sources: Set<LiveSourceState>;
}

/**
 * Per resource over every running source: the worst state (connected and
 * synced only when all are), the latest sync time.
 */
function collectStates(sources: ReadonlySet<LiveSourceState>): Map<string, { connected: boolean; synced: boolean; lastSync: number | null }> {
  const out = new Map<string, { connected: boolean; synced: boolean; lastSync: number | null }>();
  for (const src of sources) {
    for (const st of src.status()) {
      const resource = RESOURCE_OF_KIND[st.kind];
      const prev = out.get(resource);
      const lastSync = Math.max(prev?.lastSync ?? -1, st.lastSyncTime ?? -1);
      out.set(resource, {
        connected: (prev?.connected ?? true) && st.connected,
        synced: (prev?.synced ?? true) && st.synced,
        lastSync: lastSync < 0 ? null : lastSync,
      });
    }
  }
  return out;
}

export function apiMetrics(services: ProcessServices): ApiMetrics {
  return processMetric(services, 'kubernetes:api', (registry) => {
    const sources = new Set<LiveSourceState>();
    const registers = [registry];
    new Gauge({
      name: 'coredns_kubernetes_api_connected',
      help: 'Whether the last request to the API server for this resource succeeded (1) or failed (0).',
      labelNames: ['resource'], registers,
      collect() {
        this.reset();
        for (const [resource, s] of collectStates(sources)) this.labels(resource).set(s.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'coredns_kubernetes_api_synced',
      help: 'Whether the first full list of this resource has been applied (1) or not yet (0).',
      labelNames: ['resource'], registers,
      collect() {
        this.reset();
        for (const [resource, s] of collectStates(sources)) this.labels(resource).set(s.synced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'coredns_kubernetes_api_last_sync_timestamp_seconds',
      help: 'Unix time of the last completed full list of this resource.',
      labelNames: ['resource'], registers,
      collect() {
        this.reset();
        for (const [resource, s] of collectStates(sources)) if (s.lastSync !== null) this.labels(resource).set(s.lastSync / 1000);
      },
    });
    new Gauge({
      name: 'coredns_kubernetes_stale_seconds',
      help: 'Seconds the last known cluster state has been served without reaching the API server; 0 when connected.',
      registers,
      collect() {
        let stale = 0;
        const now = Date.now();
        for (const src of sources) stale = Math.max(stale, src.staleSeconds(now));
        this.set(stale);
      },
    });
    return {
      sources,
      requests: new Counter({
        name: 'coredns_kubernetes_rest_client_requests_total',
        help: 'Number of HTTP requests, partitioned by status code, method, and host.',
        labelNames: ['code', 'method', 'host'], registers,
      }),
      requestDuration: new Histogram({
        name: 'coredns_kubernetes_rest_client_request_duration_seconds',
        help: 'Request latency in seconds. Broken down by verb and host.',
        labelNames: ['verb', 'host'], buckets: DEF_BUCKETS, registers,
      }),
      rateLimiterDuration: new Histogram({
        name: 'coredns_kubernetes_rest_client_rate_limiter_duration_seconds',
        help: 'Client side rate limiter latency in seconds. Broken down by verb and host.',
        labelNames: ['verb', 'host'], buckets: DEF_BUCKETS, registers,
      }),
      relists: new Counter({
        name: 'coredns_kubernetes_api_relists_total',
        help: 'Full lists of a resource after the first one (its watch expired: 410 Gone).',
        labelNames: ['resource'], registers,
      }),
      reconnects: new Counter({
        name: 'coredns_kubernetes_api_reconnects_total',
        help: 'Retries of a list or watch after an error or a dropped stream.',
        labelNames: ['resource'], registers,
      }),
    };
  });
}

/** The client observer for one API server host; label children are made once per status code. */
export function restClientObserver(m: ApiMetrics, host: string): RestClientObserver {
  const duration = m.requestDuration.labels('GET', host);
  const limiter = m.rateLimiterDuration.labels('GET', host);
  const byCode = new Map<string, Counter.Internal>();
  return {
    requestDone(code, seconds) {
      let c = byCode.get(code);
      if (c === undefined) {
        c = m.requests.labels(code, 'GET', host);
        byCode.set(code, c);
      }
      c.inc();
      duration.observe(seconds);
    },
    rateLimited(seconds) {
      limiter.observe(seconds);
    },
  };
}

/** Relist and reconnect counters; the series of `kinds` exist (at 0) from the start. */
export function reflectorEvents(m: ApiMetrics, kinds: readonly ClusterKind[]): ReflectorEvents {
  for (const k of kinds) {
    m.relists.labels(RESOURCE_OF_KIND[k]).inc(0);
    m.reconnects.labels(RESOURCE_OF_KIND[k]).inc(0);
  }
  return {
    relisted: (kind) => { m.relists.labels(RESOURCE_OF_KIND[kind]).inc(); },
    reconnecting: (kind) => { m.reconnects.labels(RESOURCE_OF_KIND[kind]).inc(); },
  };
}

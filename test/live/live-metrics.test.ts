/**
 * @module test/live/live-metrics.test
 * The API source's metrics, scraped from the prometheus plugin: CoreDNS's
 * client metrics (names, types, labels, DefBuckets) counting the real list
 * and watch requests the fake API server received, the rate limiter's wait
 * with `apiserver_qps`/`apiserver_burst`, our state gauges and counters per
 * resource, and coredns_kubernetes_dns_programming_duration_seconds observing
 * EndpointSlice changes through their last-change-trigger-time annotation
 * (changes seen live only, not the first list).
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { bucketsOf, samples, total, type MetricFamilies } from '../ops/ops-support.ts';
import { ns, slice, svc } from '../support/k8s-objects.ts';
import { waitUntil } from '../support/wait-until.ts';
import { digUntil, kube, scrapeApp, startLive } from './live-support.ts';

const Z = 'cluster.local.';
const DEF_BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const RESOURCES = ['endpointslices', 'namespaces', 'pods', 'services'];
const TRIGGER = 'endpoints.kubernetes.io/last-change-trigger-time';

/** name -> [type, label names of every series] */
const FAMILIES: Record<string, [string, string[]]> = {
  coredns_kubernetes_rest_client_requests_total: ['counter', ['code', 'method', 'host']],
  coredns_kubernetes_rest_client_request_duration_seconds: ['histogram', ['verb', 'host']],
  coredns_kubernetes_rest_client_rate_limiter_duration_seconds: ['histogram', ['verb', 'host']],
  coredns_kubernetes_api_connected: ['gauge', ['resource']],
  coredns_kubernetes_api_synced: ['gauge', ['resource']],
  coredns_kubernetes_api_last_sync_timestamp_seconds: ['gauge', ['resource']],
  coredns_kubernetes_api_relists_total: ['counter', ['resource']],
  coredns_kubernetes_api_reconnects_total: ['counter', ['resource']],
  coredns_kubernetes_stale_seconds: ['gauge', []],
};

function labelNames(m: MetricFamilies, name: string): string[][] {
  return samples(m, name).map((s) => Object.keys(s.labels).filter((k) => k !== 'le').sort());
}

/** Scrape until `ok` holds (bounded: 3 s). */
async function scrapeUntil(app: Parameters<typeof scrapeApp>[0], ok: (m: MetricFamilies) => boolean): Promise<MetricFamilies> {
  let m = await scrapeApp(app);
  for (let i = 0; i < 150 && !ok(m); i++) {
    await new Promise((r) => setTimeout(r, 20));
    m = await scrapeApp(app);
  }
  return m;
}

function withTrigger(o: Record<string, unknown>, at: number): Record<string, unknown> {
  const meta = o.metadata as Record<string, unknown>;
  return { ...o, metadata: { ...meta, annotations: { [TRIGGER]: new Date(at).toISOString() } } };
}

describe('API source metrics (prometheus plugin)', () => {
  it('client metrics count the real requests; state gauges and counters per resource; the rate limiter is observed', async (t) => {
    // The wall clock stands still through the start (timers stay real): every sync happens at `T`.
    const T = Date.now();
    mock.timers.enable({ apis: ['Date'], now: T });
    t.after(() => { mock.timers.reset(); });
    const live = await startLive({
      options: ['pods verified', 'apiserver_qps 20', 'apiserver_burst 3', 'apiserver_max_inflight 2'],
      extra: ['prometheus 127.0.0.1:0'],
      objects: [ns('default')],
    });
    try {
      await waitUntil(() => live.api.openWatches === 4);
      const host = new URL(live.api.url).host;
      // A list is counted when its body has been read, a watch when its headers came.
      let m = await scrapeUntil(live.server.app, (x) => total(x, 'coredns_kubernetes_rest_client_requests_total') === 8);
      for (const [name, [type, labels]] of Object.entries(FAMILIES)) {
        assert.equal(m.get(name)?.type, type, `${name} type`);
        const seen = labelNames(m, name);
        assert.ok(seen.length > 0, `${name} has series`);
        for (const l of seen) assert.deepEqual(l, [...labels].sort(), `${name} labels`);
      }
      // 4 lists and 4 watches, every one counted with its code, method and host.
      assert.equal(live.api.requestLog.length, 8);
      assert.equal(total(m, 'coredns_kubernetes_rest_client_requests_total', { code: '200', method: 'GET', host }), 8);
      const duration = samples(m, 'coredns_kubernetes_rest_client_request_duration_seconds', { verb: 'GET', host })[0]!;
      assert.equal(duration.count, 8);
      assert.deepEqual(bucketsOf(duration).bounds, DEF_BUCKETS);
      const limiter = samples(m, 'coredns_kubernetes_rest_client_rate_limiter_duration_seconds', { verb: 'GET', host })[0]!;
      assert.equal(limiter.count, 8, 'every request passed the limiter');
      assert.deepEqual(bucketsOf(limiter).bounds, DEF_BUCKETS);
      // How long requests beyond the burst wait is shown on a mocked clock in
      // src/cluster/api/request-limits.test.ts (here the clock stands still).
      for (const resource of RESOURCES) {
        assert.equal(samples(m, 'coredns_kubernetes_api_connected', { resource })[0]?.value, 1, resource);
        assert.equal(samples(m, 'coredns_kubernetes_api_synced', { resource })[0]?.value, 1, resource);
        assert.equal(samples(m, 'coredns_kubernetes_api_last_sync_timestamp_seconds', { resource })[0]?.value, T / 1000, resource);
        assert.equal(samples(m, 'coredns_kubernetes_api_relists_total', { resource })[0]?.value, 0);
        assert.equal(samples(m, 'coredns_kubernetes_api_reconnects_total', { resource })[0]?.value, 0);
      }
      assert.equal(samples(m, 'coredns_kubernetes_stale_seconds')[0]?.value, 0);
      // Real time again for the rest (the limiter's tokens refill with it).
      mock.timers.reset();

      // A failing request: its code is counted, the kind reconnects.
      live.api.failNext('/api/v1/namespaces', 503, 1);
      live.api.sendRaw('Namespace', '{not json}\n'); // breaks the namespace watch: it is opened again
      await waitUntil(() => live.api.requestLog.filter((r) => r.path === '/api/v1/namespaces').length >= 4, { timeoutMs: 5000 });
      await waitUntil(() => live.api.openWatches === 4, { timeoutMs: 5000 });
      m = await scrapeUntil(live.server.app, (x) => total(x, 'coredns_kubernetes_rest_client_requests_total') === live.api.requestLog.length);
      assert.equal(total(m, 'coredns_kubernetes_rest_client_requests_total', { code: '503', method: 'GET', host }), 1);
      assert.equal(samples(m, 'coredns_kubernetes_api_reconnects_total', { resource: 'namespaces' })[0]?.value, 2);
      assert.equal(samples(m, 'coredns_kubernetes_api_reconnects_total', { resource: 'services' })[0]?.value, 0);
      assert.equal(total(m, 'coredns_kubernetes_rest_client_requests_total', { host }), live.api.requestLog.length);
    } finally {
      await live.stop();
    }
  });

  it('dns programming duration: live EndpointSlice changes with a trigger time are observed, the first list is not', async (t) => {
    // The wall clock stands still (timers stay real): a change is observed exactly as old as its trigger time.
    const now = Date.now();
    mock.timers.enable({ apis: ['Date'], now });
    t.after(() => { mock.timers.reset(); });
    const live = await startLive({
      extra: ['prometheus 127.0.0.1:0'],
      objects: [
        ns('prod'),
        svc('prod', 'db', 'None', [{ name: 'pg', port: 5432 }]),
        svc('prod', 'web', ['10.96.0.10'], [{ name: 'http', port: 80 }]),
        withTrigger(slice('prod', 'db-a', 'db', [{ ip: '10.1.0.1' }], [{ name: 'pg', port: 5432 }]), now - 3_600_000),
      ],
    });
    const histogram = 'coredns_kubernetes_dns_programming_duration_seconds';
    try {
      let m = await scrapeApp(live.server.app);
      assert.equal(total(m, histogram), 0, 'an hour-old trigger time from the first list is not a programming delay');

      // The EndpointSlice controller updated the slice 1.5 s after the pod change that caused it.
      live.api.update(kube(withTrigger(slice('prod', 'db-a', 'db', [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }], [{ name: 'pg', port: 5432 }]), now - 1500)));
      await digUntil(live.port, ['A', `db.prod.svc.${Z}`], (x) => x.answer.length === 2, 1000);
      live.api.create(kube(withTrigger(slice('prod', 'web-a', 'web', [{ ip: '10.1.1.1' }], [{ name: 'http', port: 80 }]), now - 200)));
      live.api.create(kube(slice('prod', 'web-b', 'web', [{ ip: '10.1.1.2' }], [{ name: 'http', port: 80 }]))); // no annotation: not observed
      await digUntil(live.port, ['A', `10-1-1-2.web.prod.svc.${Z}`], (x) => x.status === 'NOERROR', 1000);
      m = await scrapeApp(live.server.app);
      const headless = samples(m, histogram, { service_kind: 'headless_with_selector' })[0]!;
      assert.equal(headless.count, 1);
      assert.equal(headless.sum, 1.5);
      const clusterIp = samples(m, histogram, { service_kind: 'cluster_ip' })[0]!;
      assert.equal(clusterIp.count, 1);
      assert.equal(clusterIp.sum, 0.2);
      assert.equal(samples(m, histogram, { service_kind: 'headless_without_selector' })[0]?.count ?? 0, 0);
    } finally {
      await live.stop();
    }
  });
});

/**
 * @module test/ops/metric-names.test
 * Every CoreDNS metric we expose, by name, type and exact label names, read
 * from a live /metrics scrape; plus promlint-style rules (namespaced snake
 * case, counters end in _total, histograms carry a base unit, help text) and
 * bounded label values (type bucketed to CoreDNS's set whatever the query
 * types, family 1/2, proto udp/tcp). Plugins that add CoreDNS metrics add
 * their rows here, with the Corefile line that enables them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Class, Type } from '../../src/dns/constants.ts';
import { encodeQuery } from '../../src/dns/message.ts';
import { injectRaw, startServer } from '../support/harness.ts';
import { scrape, samples, total } from './ops-support.ts';
import { TYPE_LABELS } from '../../src/plugins/prometheus/dns-counters.ts';
import { startFakeUpstream } from '../support/fake-upstream.ts';
import { rrs } from '../../src/dns/rr.ts';

interface MetricRow {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** Label names of every series, in CoreDNS's order (`le` of histogram buckets not included). */
  readonly labels: readonly string[];
}

/** CoreDNS's names and labels (plugin/metrics/vars, metrics.go, reload/metrics.go, health/overloaded.go). */
const COREDNS_METRICS: readonly MetricRow[] = [
  { name: 'coredns_build_info', type: 'gauge', labels: ['version', 'revision', 'goversion'] },
  { name: 'coredns_panics_total', type: 'counter', labels: [] },
  { name: 'coredns_plugin_enabled', type: 'gauge', labels: ['server', 'zone', 'view', 'name'] },
  { name: 'coredns_dns_requests_total', type: 'counter', labels: ['server', 'zone', 'view', 'proto', 'family', 'type'] },
  { name: 'coredns_dns_request_duration_seconds', type: 'histogram', labels: ['server', 'zone', 'view'] },
  { name: 'coredns_dns_request_size_bytes', type: 'histogram', labels: ['server', 'zone', 'view', 'proto'] },
  { name: 'coredns_dns_response_size_bytes', type: 'histogram', labels: ['server', 'zone', 'view', 'proto'] },
  { name: 'coredns_dns_do_requests_total', type: 'counter', labels: ['server', 'zone', 'view'] },
  { name: 'coredns_dns_responses_total', type: 'counter', labels: ['server', 'zone', 'view', 'rcode', 'plugin'] },
  { name: 'coredns_reload_failed_total', type: 'counter', labels: [] },
  { name: 'coredns_reload_version_info', type: 'gauge', labels: ['hash', 'value'] },
  { name: 'coredns_health_request_duration_seconds', type: 'histogram', labels: [] },
  { name: 'coredns_health_request_failures_total', type: 'counter', labels: [] },
];

const COREFILE = `.:0 {
  bind 127.0.0.1
  reload 2s 1s
  health 127.0.0.1:0
  ready 127.0.0.1:0
  prometheus 127.0.0.1:0
  chaos
  whoami
}
`;

test('every CoreDNS metric we expose has CoreDNS\'s name, type and labels; names and label values pass lint', async () => {
  const srv = await startServer(COREFILE);
  try {
    const port = srv.app.services.http.port('127.0.0.1:0')!;
    // Traffic of many types (40 distinct, most outside the monitored set), both families and protos, with and without DO.
    const types = [...Array.from({ length: 30 }, (_, i) => 1 + i), 33, 43, 46, 47, 48, 50, 65, 255, 257, 65280];
    for (const [i, t] of types.entries()) {
      const reply = await injectRaw(srv.app, encodeQuery(`q${i}.example.`, t, { id: i, udpSize: 1232, do: i % 3 === 0 }), {
        transport: i % 2 === 0 ? 'udp' : 'tcp', remoteAddress: i % 4 < 2 ? '127.0.0.1' : '::1',
      });
      assert.ok(reply);
    }
    await injectRaw(srv.app, encodeQuery('version.bind.', Type.TXT, { qclass: Class.CH, id: 99 }));
    // The health self-probe runs once a second.
    let m = await scrape(port);
    for (let i = 0; i < 40 && total(m, 'coredns_health_request_duration_seconds') === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      m = await scrape(port);
    }

    for (const row of COREDNS_METRICS) {
      const family = m.get(row.name);
      assert.ok(family, `${row.name} is exposed`);
      assert.equal(family.type, row.type, `${row.name} type`);
      assert.ok(family.help.length > 0, `${row.name} has help`);
      const series = samples(m, row.name);
      assert.ok(series.length > 0, `${row.name} has series`);
      for (const s of series) assert.deepEqual(Object.keys(s.labels), row.labels, `${row.name} labels`);
    }

    // Lint: every metric of the registry (ours and Node's runtime ones).
    for (const [name, family] of m) {
      assert.match(name, /^[a-z][a-z0-9_]*$/, `${name}: snake case`);
      assert.ok(family.help.length > 0, `${name}: help`);
      if (family.type === 'counter') assert.match(name, /_total$/, `${name}: counters end in _total`);
      if (family.type === 'histogram') assert.match(name, /_(seconds|bytes)$/, `${name}: histograms carry a base unit`);
      if (name.startsWith('coredns_')) assert.ok(ALL_METRICS.some((r) => r.name === name), `${name} is listed here`);
    }

    // Bounded label values: the 41 query types above make at most CoreDNS's 19 type labels.
    const typeLabels = new Set(samples(m, 'coredns_dns_requests_total').map((s) => s.labels.type!));
    for (const t of typeLabels) assert.ok(TYPE_LABELS.includes(t), `type label ${t}`);
    assert.ok(typeLabels.has('other'));
    assert.deepEqual(new Set(samples(m, 'coredns_dns_requests_total').map((s) => s.labels.family)), new Set(['1', '2']));
    assert.deepEqual(new Set(samples(m, 'coredns_dns_requests_total').map((s) => s.labels.proto)), new Set(['udp', 'tcp']));
    assert.equal(total(m, 'coredns_dns_requests_total'), types.length + 1);
    assert.equal(total(m, 'coredns_dns_do_requests_total'), types.filter((_, i) => i % 3 === 0).length);
  } finally {
    await srv.stop();
  }
});

/** Plugin metrics (cache, forward, hosts, kubernetes, autopath), CoreDNS's names and label names; series exist once the plugin saw traffic. */
const PLUGIN_METRICS: readonly MetricRow[] = [
  { name: 'coredns_cache_entries', type: 'gauge', labels: ['server', 'type', 'zones', 'view'] },
  { name: 'coredns_cache_hits_total', type: 'counter', labels: ['server', 'type', 'zones', 'view'] },
  { name: 'coredns_cache_misses_total', type: 'counter', labels: ['server', 'zones', 'view'] },
  { name: 'coredns_cache_requests_total', type: 'counter', labels: ['server', 'zones', 'view'] },
  { name: 'coredns_cache_prefetch_total', type: 'counter', labels: ['server', 'zones', 'view'] },
  { name: 'coredns_cache_served_stale_total', type: 'counter', labels: ['server', 'zones', 'view'] },
  { name: 'coredns_cache_evictions_total', type: 'counter', labels: ['server', 'type', 'zones', 'view'] },
  { name: 'coredns_proxy_request_duration_seconds', type: 'histogram', labels: ['proxy_name', 'to', 'rcode'] },
  { name: 'coredns_proxy_healthcheck_failures_total', type: 'counter', labels: ['proxy_name', 'to'] },
  { name: 'coredns_proxy_conn_cache_hits_total', type: 'counter', labels: ['proxy_name', 'to', 'proto'] },
  { name: 'coredns_proxy_conn_cache_misses_total', type: 'counter', labels: ['proxy_name', 'to', 'proto'] },
  { name: 'coredns_forward_max_concurrent_rejects_total', type: 'counter', labels: [] },
  { name: 'coredns_forward_healthcheck_broken_total', type: 'counter', labels: [] },
  { name: 'coredns_hosts_entries', type: 'gauge', labels: [] },
  { name: 'coredns_hosts_reload_timestamp_seconds', type: 'gauge', labels: [] },
  { name: 'coredns_kubernetes_dns_programming_duration_seconds', type: 'histogram', labels: ['service_kind'] },
  { name: 'coredns_autopath_success_total', type: 'counter', labels: ['server'] },
];

/** Our own kubernetes API-state metrics, in CoreDNS's naming style (checked in test/live/live-metrics.test.ts). */
const OWN_METRICS: readonly MetricRow[] = [
  'coredns_kubernetes_api_connected', 'coredns_kubernetes_api_synced', 'coredns_kubernetes_api_last_sync_timestamp_seconds',
  'coredns_kubernetes_stale_seconds', 'coredns_kubernetes_rest_client_requests_total', 'coredns_kubernetes_rest_client_request_duration_seconds',
  'coredns_kubernetes_rest_client_rate_limiter_duration_seconds', 'coredns_kubernetes_api_relists_total', 'coredns_kubernetes_api_reconnects_total',
  'coredns_udp_receive_drops_total',
].map((name) => ({ name, type: 'gauge', labels: [] }));

const ALL_METRICS: readonly MetricRow[] = [...COREDNS_METRICS, ...PLUGIN_METRICS, ...OWN_METRICS];

test('cache, forward, hosts, kubernetes and autopath metrics carry CoreDNS\'s names, types and labels', async () => {
  const upstream = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '192.0.2.7')] } }));
  const srv = await startServer(`.:0 {
  bind 127.0.0.1
  prometheus 127.0.0.1:0
  cache 30
  autopath @kubernetes
  hosts {
    10.255.0.170 registry
    fallthrough
  }
  kubernetes cluster.local {
    manifests ${process.cwd()}/examples/cluster
    fallthrough
  }
  forward . ${upstream.address}
}
`);
  try {
    for (const [name, type] of [['nginx.default.svc.cluster.local.', Type.A], ['nginx.default.svc.cluster.local.', Type.A], ['registry.', Type.A],
      ['ext.example.', Type.A], ['ext.example.', Type.A], ['missing.default.svc.cluster.local.', Type.A]] as const) {
      assert.ok(await injectRaw(srv.app, encodeQuery(name, type, { id: 7 })));
    }
    const m = await scrape(srv.app.services.http.port('127.0.0.1:0')!);
    for (const row of PLUGIN_METRICS) {
      const family = m.get(row.name);
      assert.ok(family, `${row.name} is exposed`);
      assert.equal(family.type, row.type, `${row.name} type`);
      for (const s of samples(m, row.name)) assert.deepEqual(Object.keys(s.labels), row.labels, `${row.name} labels`);
    }
    for (const name of ['coredns_cache_hits_total', 'coredns_cache_requests_total', 'coredns_cache_entries', 'coredns_proxy_request_duration_seconds', 'coredns_hosts_entries']) {
      assert.ok(samples(m, name).length > 0, `${name} has series after traffic`);
    }
    // The kubernetes answers (nginx twice) are kept by the plugin and pass the cache: misses, not stored;
    // missing.default falls through to forward, whose answer the cache stores like ext.example's.
    assert.equal(total(m, 'coredns_cache_hits_total'), 1, 'second ext.example was a cache hit');
    assert.equal(total(m, 'clusterdns_cache_passed_total'), 2, 'nginx twice passed the cache');
    assert.equal(total(m, 'coredns_cache_misses_total'), 5, 'every query but the hit was a miss');
    assert.equal(upstream.count('ext.example.'), 1);
  } finally {
    await srv.stop();
    await upstream.close();
  }
});

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
      if (name.startsWith('coredns_')) assert.ok(COREDNS_METRICS.some((r) => r.name === name), `${name} is listed here`);
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

/**
 * @module test/ops/grafana-dashboard.test
 * deploy/grafana/clusterdns.json: every expression names only metrics a
 * running server exports (read from a live /metrics scrape of a server with
 * every plugin that has metrics, its kubernetes plugin on the fake API
 * server), histogram parts included; panel ids are unique and every query
 * uses the dashboard's data source variable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer } from '../support/harness.ts';
import { startFakeUpstream } from '../support/fake-upstream.ts';
import { FakeApiServer } from '../support/fake-apiserver.ts';
import { namespaceObject } from '../support/fake-objects.ts';
import { scrape } from './ops-support.ts';

interface Target { expr: string; datasource: { uid: string } }
interface Panel { id: number; title: string; targets: Target[] }

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/clusterdns.json', import.meta.url), 'utf8')) as { panels: Panel[]; templating: { list: { name: string }[] } };

test('every dashboard expression names a metric the server exports', async () => {
  const api = new FakeApiServer();
  const { url } = await api.start();
  api.create(namespaceObject('default'));
  const upstream = await startFakeUpstream(() => ({ reply: {} }));
  const srv = await startServer(`.:0 {
  bind 127.0.0.1
  prometheus 127.0.0.1:0
  health 127.0.0.1:0
  reload 2s 1s
  cache 30
  autopath @kubernetes
  kubernetes cluster.local {
    endpoint ${url}
  }
  forward . ${upstream.address}
}
`);
  try {
    const families = await scrape(srv.app.services.http.port('127.0.0.1:0')!);
    const exported = (name: string): boolean => {
      if (families.has(name)) return true;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      return base !== name && families.get(base)?.type === 'histogram';
    };
    const named = new Set<string>();
    for (const p of dashboard.panels) {
      assert.ok(p.targets.length > 0, `${p.title}: has queries`);
      for (const t of p.targets) {
        assert.equal(t.datasource.uid, '${datasource}', `${p.title}: uses the data source variable`);
        const names = t.expr.match(/\bcoredns_[a-z0-9_]+/g) ?? [];
        assert.ok(names.length > 0, `${p.title}: ${t.expr} names a metric`);
        for (const n of names) {
          named.add(n);
          assert.ok(exported(n), `${p.title}: ${n} is exported`);
        }
      }
    }
    // The panels the issue asks for are there.
    for (const n of ['coredns_dns_requests_total', 'coredns_dns_responses_total', 'coredns_dns_request_duration_seconds_bucket',
      'coredns_cache_hits_total', 'coredns_proxy_healthcheck_failures_total', 'coredns_kubernetes_api_synced',
      'coredns_kubernetes_stale_seconds', 'coredns_reload_failed_total']) assert.ok(named.has(n), `a panel uses ${n}`);
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource'));
  } finally {
    await srv.stop();
    await upstream.close();
    await api.stop();
  }
});

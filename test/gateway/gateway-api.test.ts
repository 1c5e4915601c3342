/**
 * @module test/gateway/gateway-api.test
 * The DNSRecord flow from the API test server (real list/watch): the dnsrecord
 * plugin answers with the ClusterIP of the Service the record names as its
 * gateway; the gateway proxies one path to a Service's ClusterIP and, with
 * --endpoints, another to the Service's ready endpoints (an upstream); an
 * edit is routed; during an API outage DNS and routes stay; an edit into an
 * invalid record keeps its last good version (through a relist too), logged
 * and counted, until fixed; two records on
 * one host: the older (creationTimestamp) wins, the other is logged and gets
 * an Accepted=False status condition.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeApiServer, type KubeObject } from '../support/fake-apiserver.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dig, startServer, type TestServer } from '../support/harness.ts';
import { pollUntil, startBackend, type Backend } from '../support/http-backends.ts';
import { slice, svc } from '../support/k8s-objects.ts';
import { waitUntil } from '../support/wait-until.ts';
import { metricsRegistry } from '../../src/metrics/registry.ts';
import { DNSRECORD_PATH } from '../../src/dnsrecord/api-source.ts';

/** coredns_dnsrecord_invalid_records_total{source="api"} of the DNS server. */
async function invalidApiRecords(): Promise<number> {
  const m = metricsRegistry(dns.app.services).getSingleMetric('coredns_dnsrecord_invalid_records_total');
  const values = m ? (await m.get()).values : [];
  return values.find((v) => v.labels.source === 'api')?.value ?? 0;
}

let api: FakeApiServer;
let b1: Backend, b2: Backend, b3: Backend;
let dns: TestServer;
let t: TestGateway;

function dnsRecord(name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z'): KubeObject {
  return { apiVersion: 'clusterdns.io/v1alpha1', kind: 'DNSRecord', metadata: { name, namespace: 'web', creationTimestamp: created }, spec };
}

before(async () => {
  api = new FakeApiServer();
  await api.start();
  [b1, b2, b3] = await Promise.all([startBackend('backend1', '127.0.0.2'), startBackend('backend2', '127.0.0.3'), startBackend('backend3', '127.0.0.4')]);
  api.create(svc('edge', 'gw', ['127.0.0.1'], [{ name: 'http', port: 80 }]) as unknown as KubeObject);
  api.create(svc('web', 'service1', ['127.0.0.9'], [{ name: 'http', port: b1.port }]) as unknown as KubeObject);
  api.create(slice('web', 'service1-a', 'service1', [{ ip: '127.0.0.2' }], [{ name: 'http', port: b1.port }]) as unknown as KubeObject);
  api.create(svc('web', 'service2', ['127.0.0.9'], [{ name: 'http', port: 80 }]) as unknown as KubeObject);
  api.create(slice('web', 'service2-a', 'service2', [{ ip: '127.0.0.3' }, { ip: '127.0.0.5', ready: false }], [{ name: 'http', port: b2.port }]) as unknown as KubeObject);
  api.create(dnsRecord('shop', {
    host: 'shop.test', gateway: { service: 'gw', namespace: 'edge' },
    paths: [{ service: 'service1', port: b1.port }, { service: 'service2', port: 80 }],
  }));
  dns = await startServer(`.:0 {\n    bind 127.0.0.1\n    dnsrecord shop.test {\n        endpoint ${api.url}\n    }\n}\n`);
  t = await startTestGateway(['--endpoint', api.url], ['--endpoints']);
  assert.ok(await pollUntil(async () => (await t.bodyOf('shop.test', '/service1/')).startsWith('backend1'), 200), `nginx did not come up: ${t.log.lines.join('\n')}`);
});

after(async () => {
  await t?.stop();
  await dns?.stop();
  await api?.stop();
  await Promise.all([b1, b2, b3].map((b) => b?.close()));
});

test('dig gives the ClusterIP of the Service named as the record gateway', async () => {
  const r = await dig(dns.port, 'shop.test', 'A');
  assert.deepEqual(r.answer.map((a) => a.data), ['127.0.0.1']);
});

test('paths go to the Services: ready endpoints only, as an upstream with keepalive', async () => {
  assert.match(await t.bodyOf('shop.test', '/service1/a.html'), /^backend1 \/a\.html host=shop\.test/);
  assert.match(await t.bodyOf('shop.test', '/service2/b'), /^backend2 \/b /);
  const text = t.gw.controller.current!;
  assert.match(text, /upstream dnsrecord_web_shop_1 \{\n    server 127\.0\.0\.3:\d+;\n    keepalive 16;\n\}/);
  assert.ok(!text.includes('127.0.0.5'), 'a not-ready endpoint was routed');
});

test('an edit through the API is routed; an endpoint change too', async () => {
  // An apply counts once nginx's old workers stopped taking connections: then one request shows the change.
  let applied = t.gw.controller.applied;
  api.update(dnsRecord('shop', {
    host: 'shop.test', gateway: { service: 'gw', namespace: 'edge' },
    paths: [{ service: 'service1', port: b1.port }, { service: 'service2', port: 80 }, { path: '/fixed/', service: 'x', address: b3.address, port: b3.port }],
  }));
  await t.untilApplied(applied, 'location /fixed/');
  assert.match(await t.bodyOf('shop.test', '/fixed/z'), /^backend3 \/z /);
  applied = t.gw.controller.applied;
  api.update(slice('web', 'service2-a', 'service2', [{ ip: '127.0.0.4' }], [{ name: 'http', port: b3.port }]) as unknown as KubeObject);
  await t.untilApplied(applied, `server 127.0.0.4:${b3.port};`);
  assert.match(await t.bodyOf('shop.test', '/service2/q'), /^backend3 \/q /);
});

test('an API outage keeps DNS answers and routes; changes apply again once it is back', async () => {
  await api.kill();
  const applied = t.gw.controller.applied;
  assert.deepEqual((await dig(dns.port, 'shop.test', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  assert.match(await t.bodyOf('shop.test', '/service1/'), /^backend1 /);
  await api.restart();
  api.update(svc('edge', 'gw', ['127.0.0.8'], [{ name: 'http', port: 80 }]) as unknown as KubeObject);
  assert.ok(await pollUntil(async () => (await dig(dns.port, 'shop.test', 'A')).answer[0]?.data === '127.0.0.8', 200, 25));
  // The gateway's store has the change (its listeners, the controller's included, ran with it) and the
  // controller rendered every change it was told of: only then does "not applied" mean anything.
  await waitUntil(() => t.gw.feeds.cluster.service('edge', 'gw')?.clusterIPs[0] === '127.0.0.8', { timeoutMs: 5000 });
  await waitUntil(() => t.gw.controller.renderedChanges === t.gw.controller.changes, { timeoutMs: 5000 });
  assert.equal(t.gw.controller.applied, applied, 'a gateway Service change is DNS only');
  assert.match(await t.bodyOf('shop.test', '/service1/'), /^backend1 /);
});

test('an edit into an invalid record keeps its last good version, through a relist, logged and counted once; the fix is served', async () => {
  const good = api.get('DNSRecord', 'web', 'shop')!;
  const answer = (await dig(dns.port, 'shop.test', 'A')).answer.map((a) => a.data);
  assert.equal(answer.length, 1);
  const counted = { dns: await invalidApiRecords(), gw: t.gw.feeds.badRecords };
  const { changes } = t.gw.controller;
  api.update(dnsRecord('shop', { host: 'not a host', paths: [{ service: 'service1', port: b1.port }] }));
  const line = '[WARNING] plugin/dnsrecord: DNSRecord web/shop: host "not a host" is not a DNS name; keeping its previous version';
  await waitUntil(() => dns.logs.includes(line) && t.log.lines.some((l) => l.includes('DNSRecord web/shop: host "not a host"')), { timeoutMs: 5000 });
  assert.deepEqual((await dig(dns.port, 'shop.test', 'A')).answer.map((a) => a.data), answer, 'the name still answers');
  assert.equal(t.gw.controller.changes, changes, 'the gateway kept its records');
  assert.equal(await invalidApiRecords(), counted.dns + 1);
  assert.equal(t.gw.feeds.badRecords, counted.gw + 1);
  // A relist (the connection lost, the revision compacted meanwhile: 410) sees the bad version again: still kept, not counted again.
  const lists = api.requestCount(DNSRECORD_PATH, false);
  await api.kill();
  // A change while the watchers are away, then compaction: their revision is too old, so they list again.
  api.create(dnsRecord('other', { host: 'other.test', paths: [{ service: 'service1', port: b1.port }] }));
  api.compact();
  await api.restart();
  await waitUntil(() => api.requestCount(DNSRECORD_PATH, false) >= lists + 2, { timeoutMs: 10_000, message: 'both relisted' });
  await waitUntil(() => [...t.gw.feeds.records.records()].some((r) => r.name === 'other'), { timeoutMs: 5000, message: 'the relist delivered' });
  assert.deepEqual((await dig(dns.port, 'shop.test', 'A')).answer.map((a) => a.data), answer, 'kept through the relist');
  assert.equal(dns.logs.filter((l) => l === line).length, 1, 'one line for the bad version');
  assert.equal(await invalidApiRecords(), counted.dns + 1);
  assert.equal(t.gw.feeds.badRecords, counted.gw + 1);
  api.delete('DNSRecord', 'web', 'other');
  // Fixed: the good version is served again.
  api.update({ ...good, spec: { ...(good.spec as Record<string, unknown>), host: 'shop.test' } });
  await waitUntil(() => dns.logs.includes('[INFO] plugin/dnsrecord: DNSRecord web/shop: valid again'), { timeoutMs: 5000 });
  assert.deepEqual((await dig(dns.port, 'shop.test', 'A')).answer.map((a) => a.data), answer);
  // The gateway has rendered (and applied) everything it was told of: the next test counts applies from here.
  await waitUntil(() => ![...t.gw.feeds.records.records()].some((r) => r.name === 'other') && t.gw.controller.renderedChanges === t.gw.controller.changes
    && !t.gw.controller.current!.includes('other.test'), { timeoutMs: 5000, message: 'the gateway caught up' });
});

test('two records on one host: the older creationTimestamp wins, the newer is logged', async () => {
  const applied = t.gw.controller.applied;
  api.create(dnsRecord('late', { host: 'shop.test', paths: [{ service: 'y', address: b2.address, port: b2.port }] }, '2026-06-01T00:00:00Z'));
  await waitUntil(() => t.log.lines.some((l) => l.includes('DNSRecord web/late')), { timeoutMs: 5000 });
  assert.match(t.log.lines.find((l) => l.includes('DNSRecord web/late'))!, /\[WARNING\] plugin\/gateway: host shop\.test\. is claimed by DNSRecord web\/late \(api\) but DNSRecord web\/shop \(api\) is older/);
  await waitUntil(() => dns.logs.some((l) => /\[WARNING\] plugin\/dnsrecord: host shop\.test\. is claimed by DNSRecord web\/late/.test(l)), { timeoutMs: 5000 });
  // The newer record was rendered (the line above is logged as the set takes it) and changed nothing nginx serves.
  await waitUntil(() => t.gw.controller.renderedChanges === t.gw.controller.changes, { timeoutMs: 5000 });
  assert.equal(t.gw.controller.applied, applied, 'the losing record was applied');
  assert.match(await t.bodyOf('shop.test', '/service1/'), /^backend1 /);
  assert.equal((await t.get('shop.test', '/y/')).status, 404);
  // The controller records it in both records' status: Accepted False for the newer, True for the owner.
  const accepted = (name: string): Record<string, unknown> | undefined =>
    ((api.get('DNSRecord', 'web', name)?.status as { conditions?: Record<string, unknown>[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Accepted');
  await waitUntil(() => accepted('late')?.status === 'False' && accepted('shop')?.status === 'True', { timeoutMs: 5000 });
  assert.equal(accepted('late')!.reason, 'HostClaimed');
  assert.match(String(accepted('late')!.message), /host shop\.test\. is claimed by DNSRecord web\/late \(api\) but DNSRecord web\/shop \(api\) is older/);
  // Once written, a condition is not written again: the watch echo matches what is wanted.
  const patches = api.statusPatches;
  const late = structuredClone(api.get('DNSRecord', 'web', 'late')!);
  (late.spec as { paths: { port: number }[] }).paths[0]!.port = b3.port;
  api.update(late);
  await waitUntil(() => [...t.gw.feeds.records.records()].some((r) => r.name === 'late' && r.paths[0]?.port === b3.port), { timeoutMs: 5000 });
  await t.gw.statusWriter!.update(t.gw.feeds.records);
  assert.equal(api.statusPatches, patches);
});

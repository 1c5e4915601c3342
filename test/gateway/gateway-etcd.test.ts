/**
 * @module test/gateway/gateway-etcd.test
 * The DNSRecord flow from a real etcd: the seed's plain host key
 * (`/dns/com/node1` = {"host": GATEWAY}) answered by dig, a JSON DNSRecord
 * in the seed's form (its gateway from the host key) routed by nginx, an
 * edit put into etcd routed, garbage and a record failing validation ignored
 * (the key keeps its last good value), and etcd down: DNS and routes
 * stay, a put after it is back applies.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEtcd, type TestEtcd } from '../support/etcd.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dig, startServer, type TestServer } from '../support/harness.ts';
import { pollUntil, startBackend, type Backend } from '../support/http-backends.ts';
import { waitUntil } from '../support/wait-until.ts';
import { metricsRegistry } from '../../src/metrics/registry.ts';

/** coredns_dnsrecord_invalid_records_total{source="etcd"} of the DNS server. */
async function invalidEtcdRecords(): Promise<number> {
  const m = metricsRegistry(dns.app.services).getSingleMetric('coredns_dnsrecord_invalid_records_total');
  const values = m ? (await m.get()).values : [];
  return values.find((v) => v.labels.source === 'etcd')?.value ?? 0;
}

let etcd: TestEtcd;
let b1: Backend, b2: Backend;
let dns: TestServer;
let t: TestGateway;

/** The seed's record form, with loopback backends. */
function seedRecord(paths: { service: string; backend: Backend }[]): string {
  return JSON.stringify({ kind: 'DNS', apiVersion: 'v1', name: 'dns-test1', host: 'node1.com', paths: paths.map((p) => ({ address: p.backend.address, service: p.service, port: p.backend.port })) });
}

before(async () => {
  etcd = await startEtcd();
  [b1, b2] = await Promise.all([startBackend('backend1', '127.0.0.2'), startBackend('backend2', '127.0.0.3')]);
  await etcd.client().put('/dns/com/node1').value('{"host":"127.0.0.1"}');
  await etcd.client().put('/dns/records/dns-test1').value(seedRecord([{ service: 'service1', backend: b1 }]));
  await etcd.client().put('/dns/org/example/only-dns').value('{"host":"192.0.2.1"}');
  dns = await startServer(`.:0 {\n    bind 127.0.0.1\n    dnsrecord node1.com example.org {\n        etcd ${etcd.endpoint}\n    }\n}\n`);
  t = await startTestGateway(['--etcd', etcd.endpoint]);
  assert.ok(await pollUntil(async () => (await t.bodyOf('node1.com', '/service1/')).startsWith('backend1'), 200), t.log.lines.join('\n'));
});

after(async () => {
  await t?.stop();
  await dns?.stop();
  await etcd?.dispose();
  await Promise.all([b1, b2].map((b) => b?.close()));
});

test('the plain host key answers dig; a lone host key is DNS only', async () => {
  assert.deepEqual((await dig(dns.port, 'node1.com', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  assert.deepEqual((await dig(dns.port, 'only-dns.example.org', 'A')).answer.map((a) => a.data), ['192.0.2.1']);
  assert.ok(!t.gw.controller.current!.includes('only-dns'), 'a DNS-only record was routed');
});

test('a JSON record in the seed form is routed; an edit put into etcd is routed; garbage is ignored', async () => {
  assert.match(await t.bodyOf('node1.com', '/service1/test.html'), /^backend1 \/test\.html /);
  const appliedBefore = t.gw.controller.applied;
  await etcd.client().put('/dns/records/dns-test1').value(seedRecord([{ service: 'service1', backend: b1 }, { service: 'service2', backend: b2 }]));
  // An apply counts once nginx's old workers stopped taking connections: from here only the new configuration answers.
  await t.untilApplied(appliedBefore, 'location /service2/');
  assert.match(await t.bodyOf('node1.com', '/service2/x'), /^backend2 \/x /);
  const { changes, applied } = t.gw.controller;
  const counted = { dns: await invalidEtcdRecords(), gw: t.gw.feeds.badRecords };
  await etcd.client().put('/dns/records/dns-test1').value('{not json');
  await waitUntil(() => t.log.lines.some((l) => l.includes('/dns/records/dns-test1: not JSON')), { timeoutMs: 5000 });
  // The warning and the delivery of the record set are one synchronous watch callback: by now the
  // controller would have been told of a change. It was not: the key keeps its last good value.
  assert.equal(t.gw.controller.changes, changes, 'garbage changed the records the gateway sees');
  assert.equal(t.gw.controller.applied, applied, 'garbage caused an nginx reload');
  assert.ok(t.gw.controller.current!.includes('location /service2/'));
  assert.match(await t.bodyOf('node1.com', '/service2/x'), /^backend2 /);
  assert.deepEqual((await dig(dns.port, 'node1.com', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  // A value that parses but fails validation (a path not starting with /) keeps the key's previous version too.
  const invalid = JSON.stringify({ kind: 'DNS', apiVersion: 'v1', name: 'dns-test1', host: 'node1.com', paths: [{ path: 'no-slash', address: b1.address, service: 'service1', port: b1.port }] });
  await etcd.client().put('/dns/records/dns-test1').value(invalid);
  await waitUntil(() => t.log.lines.some((l) => /\/dns\/records\/dns-test1: .*path "no-slash" must start with \//.test(l)) && dns.logs.some((l) => l.includes('path "no-slash"')), { timeoutMs: 5000 });
  assert.equal(t.gw.controller.changes, changes, 'an invalid record changed the records the gateway sees');
  assert.ok(t.gw.controller.current!.includes('location /service2/'));
  assert.match(await t.bodyOf('node1.com', '/service2/x'), /^backend2 /);
  assert.deepEqual((await dig(dns.port, 'node1.com', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  // Each bad value: one line naming the key, one count (the metric on the DNS side, the feeds' count on the gateway's).
  await waitUntil(() => dns.logs.filter((l) => l.includes('/dns/records/dns-test1:')).length === 2, { timeoutMs: 5000 });
  const lines = dns.logs.filter((l) => l.includes('/dns/records/dns-test1:'));
  assert.ok(lines.every((l) => l.startsWith('[WARNING] plugin/dnsrecord: etcd /dns/records/dns-test1: ') && l.endsWith('; keeping its previous value')), lines.join('\n'));
  assert.equal(await invalidEtcdRecords(), counted.dns + 2);
  assert.equal(t.gw.feeds.badRecords, counted.gw + 2);
});

test('etcd down: DNS and routes stay; a put after it is back applies', async () => {
  await etcd.stop();
  assert.deepEqual((await dig(dns.port, 'node1.com', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  assert.match(await t.bodyOf('node1.com', '/service1/'), /^backend1 /);
  await etcd.restart();
  await etcd.client().put('/dns/com/node1').value('{"host":"127.0.0.7"}');
  assert.ok(await pollUntil(async () => (await dig(dns.port, 'node1.com', 'A')).answer[0]?.data === '127.0.0.7', 200, 50));
  assert.match(await t.bodyOf('node1.com', '/service1/'), /^backend1 /);
});

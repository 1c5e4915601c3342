/**
 * @module test/gateway/gateway-api.test
 * The DNSRecord flow from the API test server (real list/watch): the dnsrecord
 * plugin answers with the ClusterIP of the Service the record names as its
 * gateway; the gateway proxies one path to a Service's ClusterIP and, with
 * --endpoints, another to the Service's ready endpoints (an upstream); an
 * edit is routed; during an API outage DNS and routes stay; two records on
 * one host: the older (creationTimestamp) wins, the other is logged and gets
 * an Accepted=False status condition.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { memoryLogger } from '../../src/log/logger.ts';
import { parseGatewayArgs, startGateway, type RunningGateway } from '../../src/gateway/cli.ts';
import { FakeApiServer, type KubeObject } from '../support/fake-apiserver.ts';
import { dig, startServer, type TestServer } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';
import { httpGet, pollUntil, startBackend, type Backend } from '../support/http-backends.ts';
import { slice, svc } from '../support/k8s-objects.ts';
import { waitUntil } from '../support/wait-until.ts';

let api: FakeApiServer;
let prefix: string;
let b1: Backend, b2: Backend, b3: Backend;
let port: number;
let dns: TestServer;
let gw: RunningGateway;
const log = memoryLogger();

const bodyOf = async (host: string, path: string): Promise<string> => (await httpGet('127.0.0.1', port, host, path)).body;

function dnsRecord(name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z'): KubeObject {
  return { apiVersion: 'clusterdns.io/v1alpha1', kind: 'DNSRecord', metadata: { name, namespace: 'web', creationTimestamp: created }, spec };
}

before(async () => {
  api = new FakeApiServer();
  await api.start();
  prefix = mkdtempSync(join(tmpdir(), 'gateway-api-prefix-'));
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
  port = await freePort();
  const args = parseGatewayArgs(['--endpoint', api.url, '--endpoints', '--listen', `127.0.0.1:${port}`, '--run-nginx', '--prefix', prefix]);
  const started = await startGateway(args, log.plugin('gateway'), () => {});
  assert.notEqual(typeof started, 'number', log.lines.join('\n'));
  gw = started as RunningGateway;
  assert.ok(await pollUntil(async () => (await bodyOf('shop.test', '/service1/')).startsWith('backend1'), 200), `nginx did not come up: ${log.lines.join('\n')}`);
});

after(async () => {
  await gw?.stop();
  await dns?.stop();
  await api?.stop();
  await Promise.all([b1, b2, b3].map((b) => b?.close()));
  rmSync(prefix, { recursive: true, force: true });
});

test('dig gives the ClusterIP of the Service named as the record gateway', async () => {
  const r = await dig(dns.port, 'shop.test', 'A');
  assert.deepEqual(r.answer.map((a) => a.data), ['127.0.0.1']);
});

test('paths go to the Services: ready endpoints only, as an upstream with keepalive', async () => {
  assert.match(await bodyOf('shop.test', '/service1/a.html'), /^backend1 \/a\.html host=shop\.test/);
  assert.match(await bodyOf('shop.test', '/service2/b'), /^backend2 \/b /);
  const text = gw.controller.current!;
  assert.match(text, /upstream dnsrecord_web_shop_1 \{\n    server 127\.0\.0\.3:\d+;\n    keepalive 16;\n\}/);
  assert.ok(!text.includes('127.0.0.5'), 'a not-ready endpoint was routed');
});

test('an edit through the API is routed; an endpoint change too', async () => {
  api.update(dnsRecord('shop', {
    host: 'shop.test', gateway: { service: 'gw', namespace: 'edge' },
    paths: [{ service: 'service1', port: b1.port }, { service: 'service2', port: 80 }, { path: '/fixed/', service: 'x', address: b3.address, port: b3.port }],
  }));
  assert.ok(await pollUntil(async () => (await bodyOf('shop.test', '/fixed/z')).startsWith('backend3 /z'), 200));
  api.update(slice('web', 'service2-a', 'service2', [{ ip: '127.0.0.4' }], [{ name: 'http', port: b3.port }]) as unknown as KubeObject);
  assert.ok(await pollUntil(async () => (await bodyOf('shop.test', '/service2/q')).startsWith('backend3 /q'), 200));
});

test('an API outage keeps DNS answers and routes; changes apply again once it is back', async () => {
  await api.kill();
  const applied = gw.controller.applied;
  assert.deepEqual((await dig(dns.port, 'shop.test', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  assert.match(await bodyOf('shop.test', '/service1/'), /^backend1 /);
  await api.restart();
  api.update(svc('edge', 'gw', ['127.0.0.8'], [{ name: 'http', port: 80 }]) as unknown as KubeObject);
  assert.ok(await pollUntil(async () => (await dig(dns.port, 'shop.test', 'A')).answer[0]?.data === '127.0.0.8', 200, 25));
  assert.equal(gw.controller.applied, applied, 'a gateway Service change is DNS only');
  assert.match(await bodyOf('shop.test', '/service1/'), /^backend1 /);
});

test('two records on one host: the older creationTimestamp wins, the newer is logged', async () => {
  api.create(dnsRecord('late', { host: 'shop.test', paths: [{ service: 'y', address: b2.address, port: b2.port }] }, '2026-06-01T00:00:00Z'));
  await waitUntil(() => log.lines.some((l) => l.includes('DNSRecord web/late')), { timeoutMs: 5000 });
  assert.match(log.lines.find((l) => l.includes('DNSRecord web/late'))!, /\[WARNING\] plugin\/gateway: host shop\.test\. is claimed by DNSRecord web\/late \(api\) but DNSRecord web\/shop \(api\) is older/);
  await waitUntil(() => dns.logs.some((l) => /\[WARNING\] plugin\/dnsrecord: host shop\.test\. is claimed by DNSRecord web\/late/.test(l)), { timeoutMs: 5000 });
  assert.match(await bodyOf('shop.test', '/service1/'), /^backend1 /);
  assert.equal((await httpGet('127.0.0.1', port, 'shop.test', '/y/')).status, 404);
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
  await waitUntil(() => [...gw.feeds.records.records()].some((r) => r.name === 'late' && r.paths[0]?.port === b3.port), { timeoutMs: 5000 });
  await gw.statusWriter!.update(gw.feeds.records);
  assert.equal(api.statusPatches, patches);
});

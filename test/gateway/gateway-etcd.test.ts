/**
 * @module test/gateway/gateway-etcd.test
 * The DNSRecord flow from a real etcd: the seed's plain host key
 * (`/dns/com/node1` = {"host": GATEWAY}) answered by dig, a JSON DNSRecord
 * in the seed's form (its gateway from the host key) routed by nginx, an
 * edit put into etcd routed, garbage ignored, and etcd down: DNS and routes
 * stay, a put after it is back applies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { memoryLogger } from '../../src/log/logger.ts';
import { parseGatewayArgs, startGateway, type RunningGateway } from '../../src/gateway/cli.ts';
import { freePort } from '../support/ports.ts';
import { startEtcd, type TestEtcd } from '../support/etcd.ts';
import { dig, startServer, type TestServer } from '../support/harness.ts';
import { httpGet, pollUntil, startBackend, type Backend } from '../support/http-backends.ts';
import { waitUntil } from '../support/wait-until.ts';

let etcd: TestEtcd;
let prefix: string;
let b1: Backend, b2: Backend;
let port: number;
let dns: TestServer;
let gw: RunningGateway;
const log = memoryLogger();

const bodyOf = async (host: string, path: string): Promise<string> => (await httpGet('127.0.0.1', port, host, path)).body;

/** The seed's record form, with loopback backends. */
function seedRecord(paths: { service: string; backend: Backend }[]): string {
  return JSON.stringify({ kind: 'DNS', apiVersion: 'v1', name: 'dns-test1', host: 'node1.com', paths: paths.map((p) => ({ address: p.backend.address, service: p.service, port: p.backend.port })) });
}

before(async () => {
  etcd = await startEtcd();
  prefix = mkdtempSync(join(tmpdir(), 'gateway-etcd-prefix-'));
  [b1, b2] = await Promise.all([startBackend('backend1', '127.0.0.2'), startBackend('backend2', '127.0.0.3')]);
  await etcd.client().put('/dns/com/node1').value('{"host":"127.0.0.1"}');
  await etcd.client().put('/dns/records/dns-test1').value(seedRecord([{ service: 'service1', backend: b1 }]));
  await etcd.client().put('/dns/org/example/only-dns').value('{"host":"192.0.2.1"}');
  dns = await startServer(`.:0 {\n    bind 127.0.0.1\n    dnsrecord node1.com example.org {\n        etcd ${etcd.endpoint}\n    }\n}\n`);
  port = await freePort();
  const started = await startGateway(parseGatewayArgs(['--etcd', etcd.endpoint, '--listen', `127.0.0.1:${port}`, '--run-nginx', '--prefix', prefix]), log.plugin('gateway'), () => {});
  assert.notEqual(typeof started, 'number', log.lines.join('\n'));
  gw = started as RunningGateway;
  assert.ok(await pollUntil(async () => (await bodyOf('node1.com', '/service1/')).startsWith('backend1'), 200), log.lines.join('\n'));
});

after(async () => {
  await gw?.stop();
  await dns?.stop();
  await etcd?.dispose();
  await Promise.all([b1, b2].map((b) => b?.close()));
  rmSync(prefix, { recursive: true, force: true });
});

test('the plain host key answers dig; a lone host key is DNS only', async () => {
  assert.deepEqual((await dig(dns.port, 'node1.com', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  assert.deepEqual((await dig(dns.port, 'only-dns.example.org', 'A')).answer.map((a) => a.data), ['192.0.2.1']);
  assert.ok(!gw.controller.current!.includes('only-dns'), 'a DNS-only record was routed');
});

test('a JSON record in the seed form is routed; an edit put into etcd is routed; garbage is ignored', async () => {
  assert.match(await bodyOf('node1.com', '/service1/test.html'), /^backend1 \/test\.html /);
  await etcd.client().put('/dns/records/dns-test1').value(seedRecord([{ service: 'service1', backend: b1 }, { service: 'service2', backend: b2 }]));
  assert.ok(await pollUntil(async () => (await bodyOf('node1.com', '/service2/x')).startsWith('backend2 /x'), 200));
  await etcd.client().put('/dns/records/dns-test1').value('{not json');
  await waitUntil(() => log.lines.some((l) => l.includes('/dns/records/dns-test1: not JSON')), { timeoutMs: 5000 });
  assert.match(await bodyOf('node1.com', '/service2/x'), /^backend2 /);
  assert.deepEqual((await dig(dns.port, 'node1.com', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
});

test('etcd down: DNS and routes stay; a put after it is back applies', async () => {
  await etcd.stop();
  assert.deepEqual((await dig(dns.port, 'node1.com', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  assert.match(await bodyOf('node1.com', '/service1/'), /^backend1 /);
  await etcd.restart();
  await etcd.client().put('/dns/com/node1').value('{"host":"127.0.0.7"}');
  assert.ok(await pollUntil(async () => (await dig(dns.port, 'node1.com', 'A')).answer[0]?.data === '127.0.0.7', 200, 50));
  assert.match(await bodyOf('node1.com', '/service1/'), /^backend1 /);
});

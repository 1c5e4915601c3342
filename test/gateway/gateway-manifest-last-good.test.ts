/**
 * @module test/gateway/gateway-manifest-last-good.test
 * Garbage in a DNSRecord manifest file never removes a served host (issue
 * 17 item 1), seen from both consumers of the files at once: our DNS server
 * (real dig, /ready, coredns_dnsrecord_manifest_errors_total) and the
 * gateway controller with real nginx (its rendered configuration and its
 * counters). A file edited into invalid YAML: every host still answers and
 * stays routed, one ERROR line names FILE:LINE; the fix is served; a record
 * failing validation keeps its previous version; a deleted file takes its
 * host away. Each step waits on the re-read's own log line or an apply, and
 * an absence of change is proven by the controller's change counter (the
 * records are delivered in the same synchronous step that logs the line).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { metricsRegistry } from '../../src/metrics/registry.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dig, startServer, type TestServer } from '../support/harness.ts';
import { waitUntil } from '../support/wait-until.ts';
import { httpGet } from '../ops/ops-support.ts';

/** Writes as kubectl and editors do: a new file renamed over the old one. */
function put(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** A record with a fixed gateway and one path to a fixed backend address (nginx needs no backend to accept it). */
function recordYaml(name: string, host: string, gateway: string, path: string): string {
  return `apiVersion: clusterdns.io/v1alpha1\nkind: DNSRecord\nmetadata: { name: ${name}, namespace: web }\nspec:\n  host: ${host}\n  gateway: ${gateway}\n  paths:\n  - { path: "${path}", service: svc, address: 127.0.0.2, port: 8080 }\n`;
}

let dir: string;
let dns: TestServer;
let t: TestGateway;
const node1 = (): string => join(dir, 'node1.yaml');
const node2 = (): string => join(dir, 'node2.yaml');
const a = async (host: string): Promise<{ status: string; ips: string[] }> => {
  const r = await dig(dns.port, host, 'A');
  return { status: r.status, ips: r.answer.map((x) => x.data) };
};
/** Lines logged by both the DNS server and the gateway since `mark`, once each has one matching `re`. */
async function untilBothLog(mark: { dns: number; gw: number }, re: RegExp): Promise<{ dns: string[]; gw: string[] }> {
  const lines = (): { dns: string[]; gw: string[] } => ({ dns: dns.logs.slice(mark.dns), gw: t.log.lines.slice(mark.gw) });
  await waitUntil(() => lines().dns.some((l) => re.test(l)) && lines().gw.some((l) => re.test(l)),
    { timeoutMs: 10_000, message: `no line ${re}\n${lines().dns.join('\n')}\n--\n${lines().gw.join('\n')}` });
  return lines();
}
const marks = (): { dns: number; gw: number } => ({ dns: dns.logs.length, gw: t.log.lines.length });
const readyStatus = async (): Promise<number> => (await httpGet(dns.app.services.http.port('127.0.0.1:0')!, '/ready')).status;
const errorCount = async (file: string): Promise<string | undefined> =>
  new RegExp(`^coredns_dnsrecord_manifest_errors_total\\{file="${file}"\\} (\\d+)$`, 'm').exec(await metricsRegistry(dns.app.services).metrics())?.[1];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-lastgood-'));
  put(node1(), recordYaml('node1', 'node1.com', '127.0.0.1', '/service1/'));
  put(node2(), recordYaml('node2', 'node2.com', '127.0.0.1', '/service2/'));
  dns = await startServer(`.:0 {\n    bind 127.0.0.1\n    ready 127.0.0.1:0\n    dnsrecord node1.com node2.com {\n        manifests ${dir}\n    }\n}\n`);
  t = await startTestGateway(['--manifests', dir]);
});

after(async () => {
  await t?.stop();
  await dns?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('garbage in a file: every host still answers and stays routed, one FILE:LINE error, counted; the fix is served', async () => {
  assert.deepEqual(await a('node1.com'), { status: 'NOERROR', ips: ['127.0.0.1'] });
  assert.ok(t.gw.controller.current!.includes('server_name node1.com;') && t.gw.controller.current!.includes('location /service1/'));
  const { changes, applied } = t.gw.controller;

  const mark = marks();
  put(node1(), 'apiVersion: clusterdns.io/v1alpha1\nkind: DNSRecord\nmetadata: { name: node1\n  : [[[\n');
  const seen = await untilBothLog(mark, /^\[ERROR\] plugin\/(dnsrecord|gateway): .*node1\.yaml:\d+: .*keeping the 1 objects read from it before/);
  for (const lines of [seen.dns, seen.gw]) {
    const errors = lines.filter((l) => l.startsWith('[ERROR]'));
    assert.equal(errors.length, 1, `one error line, not one per reader:\n${errors.join('\n')}`);
    assert.match(errors[0]!, new RegExp(`${node1().replaceAll('/', '\\/')}:\\d+: `));
  }
  assert.deepEqual(await a('node1.com'), { status: 'NOERROR', ips: ['127.0.0.1'] }, 'the broken file\'s host still answers');
  assert.deepEqual(await a('node2.com'), { status: 'NOERROR', ips: ['127.0.0.1'] });
  assert.equal(await readyStatus(), 200, '/ready unchanged');
  assert.equal(await errorCount(node1()), '1');
  assert.equal(t.gw.feeds.fileErrors, 1);
  assert.equal(t.gw.controller.changes, changes, 'garbage changed the records the gateway sees');
  assert.equal(t.gw.controller.applied, applied, 'garbage caused an nginx reload');
  assert.ok(t.gw.controller.current!.includes('server_name node1.com;') && t.gw.controller.current!.includes('location /service1/'), 'node1.com stays routed');

  const fixMark = marks();
  put(node1(), recordYaml('node1', 'node1.com', '127.0.0.9', '/fixed/'));
  await t.untilApplied(applied, 'location /fixed/');
  assert.ok(!t.gw.controller.current!.includes('location /service1/'));
  await waitUntil(() => dns.logs.slice(fixMark.dns).some((l) => l.includes('plugin/dnsrecord: manifests: re-read')), { timeoutMs: 10_000 });
  assert.deepEqual(await a('node1.com'), { status: 'NOERROR', ips: ['127.0.0.9'] }, 'the fix is served');
  assert.equal(await errorCount(node1()), '1', 'the fix is not an error');
});

test('a record failing validation keeps its previous version; a deleted file takes its host away', async () => {
  const { changes, applied } = t.gw.controller;
  const mark = marks();
  put(node2(), recordYaml('node2', 'node2.com', '127.0.0.5', 'no-slash'));
  await untilBothLog(mark, /^\[WARNING\] plugin\/(dnsrecord|gateway): .*node2\.yaml:1: DNSRecord web\/node2: paths\[0\]: path "no-slash" must start with \/.*; keeping its previous version$/);
  assert.deepEqual(await a('node2.com'), { status: 'NOERROR', ips: ['127.0.0.1'] }, 'the previous version answers');
  assert.equal(t.gw.controller.changes, changes, 'an invalid record changed the records the gateway sees');
  assert.equal(t.gw.controller.applied, applied);
  assert.ok(t.gw.controller.current!.includes('server_name node2.com;') && t.gw.controller.current!.includes('location /service2/'), 'node2.com stays routed');
  assert.equal(await errorCount(node2()), undefined, 'a document that fails validation is a warning, not a file error');

  const delMark = marks();
  rmSync(node2());
  await waitUntil(() => t.gw.controller.applied > applied && t.gw.controller.current?.includes('server_name node2.com;') === false,
    { timeoutMs: 10_000, message: t.log.lines.join('\n') });
  assert.ok(t.gw.controller.current!.includes('server_name node1.com;'));
  await waitUntil(() => dns.logs.slice(delMark.dns).some((l) => l.includes('plugin/dnsrecord: manifests: re-read')), { timeoutMs: 10_000 });
  assert.deepEqual(await a('node2.com'), { status: 'NXDOMAIN', ips: [] }, 'the deleted file\'s host goes');
  assert.deepEqual(await a('node1.com'), { status: 'NOERROR', ips: ['127.0.0.9'] });
});

/**
 * @module plugins/dnsrecord/setup.test
 * The dnsrecord option parser: each source, gateway, ttl, fallthrough, and
 * the FILE:LINE errors for bad snippets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCorefile } from '../../corefile/parser.ts';
import { parseDnsRecordDirective } from './setup.ts';

function parseOne(block: string) {
  const [sb] = parseCorefile(`example.com {\n${block}\n}\n`, 'Corefile');
  const d = sb!.directives.find((x) => x.name === 'dnsrecord')!;
  return parseDnsRecordDirective(d, { zones: ['example.com.'], configDir: '/' });
}

test('valid snippets', () => {
  const a = parseOne('dnsrecord node1.com {\n manifests /tmp\n gateway 10.0.0.1 2001:db8::1\n ttl 30\n fallthrough\n}');
  assert.deepEqual(a.zones, ['node1.com.']);
  assert.deepEqual(a.source, { manifests: ['/tmp'] });
  assert.deepEqual(a.gateways, ['10.0.0.1', '2001:db8::1']);
  assert.equal(a.ttl, 30);
  assert.ok(a.fallthrough.through('x.node1.com.'));
  assert.deepEqual(parseOne('dnsrecord').source, { api: {} });
  assert.deepEqual(parseOne('dnsrecord').zones, ['example.com.']);
  assert.deepEqual(parseOne('dnsrecord {\n kubeconfig /k ctx\n}').source, { api: { kubeconfig: '/k', context: 'ctx' } });
  assert.deepEqual(parseOne('dnsrecord {\n etcd http://127.0.0.1:2379 http://127.0.0.1:2380 path /records\n}').source,
    { etcd: { endpoints: ['http://127.0.0.1:2379', 'http://127.0.0.1:2380'], prefix: '/records/' } });
});

test('invalid snippets name FILE:LINE and the plugin', () => {
  const cases: [string, RegExp][] = [
    ['dnsrecord {\n gateway example.com\n}', /Corefile:3: plugin\/dnsrecord: gateway 'example.com' is not an IP address/],
    ['dnsrecord {\n manifests /does/not/exist\n}', /manifests: \/does\/not\/exist: no such file or directory/],
    ['dnsrecord {\n manifests /tmp\n endpoint http://127.0.0.1:1\n}', /'endpoint' cannot be combined with 'manifests'/],
    ['dnsrecord {\n etcd path /x\n}', /etcd needs at least one endpoint URL/],
    ['dnsrecord {\n etcd http://127.0.0.1:2379 path\n}', /'path' takes one key prefix/],
    ['dnsrecord {\n ttl -1\n}', /ttl/],
    ['dnsrecord {\n fallthru\n}', /unknown property 'fallthru'/],
  ];
  for (const [block, want] of cases) assert.throws(() => parseOne(block), want, block);
});

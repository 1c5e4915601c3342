/**
 * @module dnsrecord/record.test
 * DNSRecord conversion: the CRD form, the seed's JSON form as it is, the
 * defaults (path /<service>/, rewrite true, the record's namespace), and
 * each validation rule with the message a user gets.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { convertDnsRecord } from './record.ts';

const seedFile = new URL('../../test/support/fixtures/dnsrecord-seed.json', import.meta.url);

test('the seed JSON file converts as is: kind DNS, top-level name, host and paths', () => {
  const r = convertDnsRecord(JSON.parse(readFileSync(seedFile, 'utf8')), 'seed.json');
  assert.equal(r.error, undefined);
  assert.deepEqual(r.record, {
    kind: 'DNSRecord', namespace: 'default', name: 'dns-test1', host: 'node1.com.', gateway: null, createdMs: null, origin: 'seed.json', accepted: null,
    paths: [
      { path: '/service1/', service: 'service1', namespace: 'default', port: 8010, address: '10.1.1.10', rewrite: true },
      { path: '/service2/', service: 'service2', namespace: 'default', port: 8011, address: '10.1.1.11', rewrite: true },
    ],
  });
});

test('the CRD form: gateway as a Service reference, service as name.namespace, explicit path and rewrite', () => {
  const r = convertDnsRecord({
    apiVersion: 'clusterdns.io/v1alpha1', kind: 'DNSRecord',
    metadata: { name: 'web', namespace: 'team', creationTimestamp: '2026-01-02T03:04:05Z' },
    spec: {
      host: 'Shop.Example.com', gateway: { service: 'gw', namespace: 'edge' },
      paths: [{ path: '/api/', service: 'api.backend', port: 80, rewrite: false }, { service: 'ui', port: 8080 }],
    },
  }, 'api');
  assert.equal(r.error, undefined);
  const rec = r.record!;
  assert.equal(rec.host, 'shop.example.com.');
  assert.deepEqual(rec.gateway, { service: 'gw', namespace: 'edge' });
  assert.equal(rec.createdMs, Date.parse('2026-01-02T03:04:05Z'));
  assert.deepEqual(rec.paths.map((p) => [p.path, p.service, p.namespace, p.rewrite]), [['/api/', 'api', 'backend', false], ['/ui/', 'ui', 'team', true]]);
});

test('invalid records are refused with the field and the record named', () => {
  const base = { kind: 'DNS', name: 'x', host: 'a.com', paths: [{ service: 's', port: 80 }] };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, host: 'not a host' }, /DNSRecord default\/x: host "not a host" is not a DNS name/],
    [{ ...base, paths: [{ service: 's', port: 0 }] }, /paths\[0\]: port must be a whole number from 1 to 65535/],
    [{ ...base, paths: [{ service: 's', port: 70000 }] }, /port must be/],
    [{ ...base, paths: [{ service: 's', port: 80, path: 'relative/' }] }, /path "relative\/" must start with \//],
    [{ ...base, paths: [{ service: 's', port: 80, path: '/a; return 500;' }] }, /must start with \/ and hold only URL path characters/],
    [{ ...base, paths: [{ service: 's', port: 80, address: 'backend.local' }] }, /"backend.local" is not an IP address/],
    [{ ...base, paths: [] }, /paths must be a non-empty list/],
    [{ ...base, gateway: '300.1.1.1' }, /gateway: "300.1.1.1" is not an IP address/],
    [{ ...base, name: '' }, /missing name/],
  ];
  for (const [obj, want] of cases) {
    const r = convertDnsRecord(obj, 'f');
    assert.equal(r.record, undefined, JSON.stringify(obj));
    assert.match(r.error!, want);
  }
});

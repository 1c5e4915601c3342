/**
 * @module plugins/dnsrecord/dnsrecord.test
 * The dnsrecord plugin end to end with real dig: records from a manifest
 * folder (the CRD form and the seed's JSON file as is), the record's own
 * gateway before the plugin's, NODATA with SOA, NXDOMAIN in the zone,
 * fallthrough, an edit answered after the re-read, garbage never removing
 * a served name, and two records claiming one host (oldest wins, reported).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dig, startServer, type TestServer } from '../../../test/support/harness.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';

const seedFile = new URL('../../../test/support/fixtures/dnsrecord-seed.json', import.meta.url);

function record(name: string, host: string, extra: string = ''): string {
  return `apiVersion: clusterdns.io/v1alpha1
kind: DNSRecord
metadata: { name: ${name}, namespace: web }
spec:
  host: ${host}
${extra}  paths:
  - { service: service1, port: 8010, address: 10.1.1.10 }
`;
}

let dir: string;
let server: TestServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dnsrecord-'));
  copyFileSync(seedFile, join(dir, 'seed.json'));
  writeFileSync(join(dir, 'shop.yaml'), record('shop', 'shop.example.com', '  gateway: 192.0.2.7\n'));
  writeFileSync(join(dir, 'v6.yaml'), record('v6', 'v6.example.com', '  gateway: 2001:db8::7\n'));
  server = await startServer(`.:0 {
    bind 127.0.0.1
    dnsrecord node1.com example.com {
        manifests ${dir}
        gateway 127.0.0.1
        ttl 30
    }
    dnsrecord other.test {
        manifests ${dir}
        fallthrough
    }
    whoami
}
`);
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the seed JSON file: dig node1.com gives the plugin gateway', async () => {
  const r = await dig(server.port, 'node1.com', 'A');
  assert.equal(r.status, 'NOERROR');
  assert.deepEqual(r.answer.map((a) => [a.name, a.ttl, a.type, a.data]), [['node1.com.', 30, 'A', '127.0.0.1']]);
  assert.ok(r.flags.includes('aa'));
});

test('a record with its own gateway answers with it, A and AAAA by family', async () => {
  assert.deepEqual((await dig(server.port, 'shop.example.com', 'A')).answer.map((a) => a.data), ['192.0.2.7']);
  assert.deepEqual((await dig(server.port, 'v6.example.com', 'AAAA')).answer.map((a) => a.data), ['2001:db8::7']);
  const none = await dig(server.port, 'v6.example.com', 'A');
  assert.equal(none.status, 'NOERROR');
  assert.equal(none.answer.length, 0);
  assert.equal(none.authority[0]?.type, 'SOA');
});

test('other types are NODATA with the SOA; unknown names NXDOMAIN with the SOA; fallthrough passes on', async () => {
  const mx = await dig(server.port, 'node1.com', 'MX');
  assert.equal(mx.status, 'NOERROR');
  assert.deepEqual(mx.authority.map((a) => [a.name, a.type]), [['node1.com.', 'SOA']]);
  const nx = await dig(server.port, 'nobody.example.com', 'A');
  assert.equal(nx.status, 'NXDOMAIN');
  assert.deepEqual(nx.authority.map((a) => [a.name, a.type]), [['example.com.', 'SOA']]);
  // other.test has no records and fallthrough: whoami answers.
  const through = await dig(server.port, 'x.other.test', 'A');
  assert.equal(through.status, 'NOERROR');
  assert.equal(through.additional.some((a) => a.type === 'A' && a.data === '127.0.0.1'), true);
});

test('an edit is answered after the re-read; garbage in a file keeps the names served', async () => {
  writeFileSync(join(dir, 'shop.yaml'), record('shop', 'shop.example.com', '  gateway: 192.0.2.8\n'));
  for (let i = 0; i < 100; i++) {
    if ((await dig(server.port, 'shop.example.com', 'A')).answer[0]?.data === '192.0.2.8') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual((await dig(server.port, 'shop.example.com', 'A')).answer.map((a) => a.data), ['192.0.2.8']);
  writeFileSync(join(dir, 'broken.yaml'), 'kind: DNSRecord\nmetadata: {name: b}\nspec: {host: "bad host", paths: []}\n');
  await waitUntil(() => server.logs.some((l) => l.includes('broken.yaml') && l.includes('bad host')), { timeoutMs: 5000 });
  assert.deepEqual((await dig(server.port, 'node1.com', 'A')).answer.map((a) => a.data), ['127.0.0.1']);
  assert.ok(server.logs.some((l) => /\[WARNING\] plugin\/dnsrecord: .*broken\.yaml: DNSRecord default\/b: host "bad host" is not a DNS name/.test(l)));
});

test('two records claiming one host: the older keeps it and the other is reported', async () => {
  writeFileSync(join(dir, 'zz-clash.yaml'), record('clash', 'shop.example.com', '  gateway: 198.51.100.1\n'));
  await waitUntil(() => server.logs.some((l) => l.includes('DNSRecord web/clash')), { timeoutMs: 5000 });
  const line = server.logs.find((l) => l.includes('DNSRecord web/clash'))!;
  assert.match(line, /\[WARNING\] plugin\/dnsrecord: host shop\.example\.com\. is claimed by DNSRecord web\/clash .* but DNSRecord web\/shop .* is older and keeps it/);
  assert.deepEqual((await dig(server.port, 'shop.example.com', 'A')).answer.map((a) => a.data), ['192.0.2.8']);
});

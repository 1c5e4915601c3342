/**
 * @module plugins/hosts/hosts.test
 * hosts: parsing (comments, aliases, IPv6 zones, names made absolute and
 * filtered by zones), answers (A, AAAA, PTR, NODATA, NXDOMAIN,
 * fallthrough), inline entries, ttl and no_reverse, a file changed and
 * deleted under a running server, the metrics, and a real dig.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rcode } from '../../dns/constants.ts';
import type { DecodedMessage } from '../../dns/message.ts';
import { bytesToIp } from '../../dns/ip.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import { dig, inject, startServer, type TestServer } from '../../../test/support/harness.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import { parseHosts } from './hostsfile.ts';
import type { Hosts } from './hosts.ts';

let dir = '';
let file = '';
const HOSTS = [
  '# static entries',
  '10.0.0.1   alpha alpha.example.org   Alias1',
  '2001:db8::1 alpha',
  '10.0.0.2 beta   # trailing comment',
  'fe80::2%eth0 gamma',
  'not-an-ip delta',
  '10.0.0.3',
  '',
].join('\n');

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hosts-'));
  file = join(dir, 'hosts');
  writeFileSync(file, HOSTS);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const addrs = (m: DecodedMessage): string[] => m.answer.map((r) => bytesToIp(r.data));
const ptrs = (m: DecodedMessage): string[] => m.answer.map((r) => decodeName(r.data));
function decodeName(d: Uint8Array): string {
  let out = '';
  for (let p = 0; d[p] !== 0; p += d[p]! + 1) out += Buffer.from(d.subarray(p + 1, p + 1 + d[p]!)).toString('latin1') + '.';
  return out || '.';
}

async function withServer(corefile: string, fn: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startServer(corefile);
  try { await fn(s); } finally { await s.stop(); }
}

describe('hosts file parsing', () => {
  it('reads names as written (absolute, lower case), keeps only those in the zones', () => {
    const all = parseHosts(HOSTS, ['.']);
    assert.deepEqual([...all.v4.entries()], [
      ['alpha.', ['10.0.0.1']], ['alpha.example.org.', ['10.0.0.1']], ['alias1.', ['10.0.0.1']], ['beta.', ['10.0.0.2']],
    ]);
    assert.deepEqual([...all.v6.entries()], [['alpha.', ['2001:db8::1']], ['gamma.', ['fe80::2']]]);
    assert.deepEqual(all.byReverse.get('1.0.0.10.in-addr.arpa.'), ['alpha.', 'alpha.example.org.', 'alias1.']);
    const zoned = parseHosts(HOSTS, ['example.org.']);
    assert.deepEqual([...zoned.v4.keys()], ['alpha.example.org.']);
    assert.equal(zoned.v6.size, 0);
  });
});

describe('hosts answers', () => {
  it('A, AAAA, PTR, NODATA and NXDOMAIN from a file', async () => {
    await withServer(`.:0 {\n bind 127.0.0.1\n hosts ${file}\n}\n`, async (s) => {
      const a = await inject(s.app, 'ALPHA', 'A');
      assert.equal(a.rcode, Rcode.NOERROR);
      assert.ok((a.flags & 0x0400) !== 0, 'authoritative');
      assert.deepEqual(addrs(a), ['10.0.0.1']);
      assert.equal(a.answer[0]!.ttl, 3600);
      assert.deepEqual(addrs(await inject(s.app, 'alpha', 'AAAA')), ['2001:db8::1']);
      assert.deepEqual(addrs(await inject(s.app, 'gamma', 'AAAA')), ['fe80::2']);
      const nodata = await inject(s.app, 'beta', 'AAAA');
      assert.equal(nodata.rcode, Rcode.NOERROR);
      assert.equal(nodata.answer.length, 0);
      const mx = await inject(s.app, 'alpha', 'MX');
      assert.equal(mx.rcode, Rcode.NOERROR);
      assert.equal(mx.answer.length, 0);
      assert.equal((await inject(s.app, 'nobody', 'A')).rcode, Rcode.NXDOMAIN);
      assert.equal((await inject(s.app, 'delta', 'A')).rcode, Rcode.NXDOMAIN, 'a line without an IP is ignored');
      assert.deepEqual(ptrs(await inject(s.app, '1.0.0.10.in-addr.arpa', 'PTR')), ['alpha.', 'alpha.example.org.', 'alias1.']);
      assert.deepEqual(ptrs(await inject(s.app, '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', 'PTR')), ['alpha.']);
      assert.equal((await inject(s.app, '9.9.9.10.in-addr.arpa', 'PTR')).rcode, Rcode.SERVFAIL, 'unknown address goes on (no next plugin)');
    });
  });

  it('serves only its zones, with short names not qualified by them (as CoreDNS)', async () => {
    await withServer(`.:0 {\n bind 127.0.0.1\n hosts ${file} example.org\n whoami\n}\n`, async (s) => {
      assert.deepEqual(addrs(await inject(s.app, 'alpha.example.org', 'A')), ['10.0.0.1']);
      const outside = await inject(s.app, 'alpha', 'A');
      assert.equal(outside.answer.length, 0);
      assert.equal(outside.additional.length, 2, 'went on to whoami');
      assert.equal((await inject(s.app, 'nobody.example.org', 'A')).rcode, Rcode.NXDOMAIN);
    });
  });

  it('the inline block with fallthrough works unchanged', async () => {
    await withServer('.:0 {\n bind 127.0.0.1\n hosts {\n  10.255.0.170 registry\n  fallthrough\n }\n whoami\n}\n', async (s) => {
      const r = await inject(s.app, 'registry', 'A');
      assert.deepEqual(addrs(r), ['10.255.0.170']);
      assert.deepEqual(ptrs(await inject(s.app, '170.0.255.10.in-addr.arpa', 'PTR')), ['registry.']);
      const other = await inject(s.app, 'not-in-hosts.invalid', 'A');
      assert.equal(other.additional.length, 2, 'fell through to whoami');
    });
  });

  it('ttl, no_reverse, inline merged with the file, fallthrough limited to zones', async () => {
    const corefile = `.:0 {\n bind 127.0.0.1\n hosts ${file} {\n  10.9.9.9 alpha extra\n  ttl 60\n  no_reverse\n  fallthrough pass.example\n }\n whoami\n}\n`;
    await withServer(corefile, async (s) => {
      const a = await inject(s.app, 'alpha', 'A');
      assert.deepEqual(addrs(a), ['10.0.0.1', '10.9.9.9']);
      assert.ok(a.answer.every((r) => r.ttl === 60));
      assert.deepEqual(addrs(await inject(s.app, 'extra', 'A')), ['10.9.9.9']);
      const ptr = await inject(s.app, '1.0.0.10.in-addr.arpa', 'PTR');
      assert.equal(ptr.answer.length, 0, 'no PTR with no_reverse');
      assert.equal((await inject(s.app, 'x.pass.example', 'A')).additional.length, 2, 'fallthrough zone');
      assert.equal((await inject(s.app, 'x.stop.example', 'A')).rcode, Rcode.NXDOMAIN);
    });
  });

  it('answers a real client', async () => {
    await withServer(`.:0 {\n bind 127.0.0.1\n hosts ${file}\n}\n`, async (s) => {
      const r = await dig(s.port, 'Alpha', 'A');
      assert.equal(r.status, 'NOERROR');
      assert.ok(r.flags.includes('aa'));
      assert.deepEqual(r.answer.map((x) => [x.name, x.ttl, x.data]), [['Alpha.', 3600, '10.0.0.1']]);
      const p = await dig(s.port, '-x', '10.0.0.2');
      assert.deepEqual(p.answer.map((x) => x.data), ['beta.']);
    });
  });
});

describe('hosts reload', () => {
  it('picks up a changed file, serves inline entries when it is deleted, and the file again when it returns', async () => {
    const f = join(dir, 'changing');
    writeFileSync(f, '10.1.0.1 one\n');
    await withServer(`.:0 {\n bind 127.0.0.1\n hosts ${f} {\n  10.1.0.99 inline\n  reload 50ms\n }\n}\n`, async (s) => {
      const h = s.app.server.generation!.blocks[0]!.handlers.find((x) => x.name === 'hosts') as Hosts;
      assert.deepEqual(addrs(await inject(s.app, 'one', 'A')), ['10.1.0.1']);
      const reads = h.reads;
      writeFileSync(f, '10.1.0.2 two\n10.1.0.1 one uno\n');
      await waitUntil(() => h.reads > reads, { timeoutMs: 3000, message: 'file re-read' });
      assert.deepEqual(addrs(await inject(s.app, 'two', 'A')), ['10.1.0.2']);
      assert.deepEqual(addrs(await inject(s.app, 'uno', 'A')), ['10.1.0.1']);
      assert.ok(s.logs.some((l) => l.includes('[INFO] plugin/hosts: reloaded')));
      const text = await metricsRegistry(s.app.services).metrics();
      assert.match(text, /coredns_hosts_entries 8\n/);
      assert.match(text, /coredns_hosts_reload_timestamp_seconds \d{9,}/);
      unlinkSync(f);
      await waitUntil(() => s.logs.some((l) => l.includes('was removed')), { timeoutMs: 3000, message: 'deletion noticed' });
      assert.equal((await inject(s.app, 'two', 'A')).rcode, Rcode.NXDOMAIN);
      assert.deepEqual(addrs(await inject(s.app, 'inline', 'A')), ['10.1.0.99']);
      const again = h.reads;
      writeFileSync(f, '10.1.0.3 three\n');
      await waitUntil(() => h.reads > again, { timeoutMs: 3000, message: 'file back' });
      assert.deepEqual(addrs(await inject(s.app, 'three', 'A')), ['10.1.0.3']);
    });
  });

  it('warns about a missing file at setup and serves the inline entries', async () => {
    await withServer(`.:0 {\n bind 127.0.0.1\n hosts ${join(dir, 'absent')} {\n  10.2.0.1 only\n }\n}\n`, async (s) => {
      assert.ok(s.logs.includes(`[WARNING] plugin/hosts: File does not exist: ${join(dir, 'absent')}`));
      assert.deepEqual(addrs(await inject(s.app, 'only', 'A')), ['10.2.0.1']);
    });
  });
});

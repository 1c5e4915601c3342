/**
 * @module plugins/etcd/live.test
 * The etcd plugin over time, against a real etcd: the seed-style record
 * (`/dns/com/node1` with `path /dns`), puts and deletes after start, a key
 * on a 3 s lease that stops answering once etcd expires it, lease TTL
 * clamping, fallthrough to the next plugin, and an etcd outage (known names
 * keep answering, new names appear once etcd is back, metrics and /ready
 * say so). Waits are bounded polls for an answer, never timing assertions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type TestEtcd } from '../../../test/support/etcd.ts';
import { startDnsmasq, type Dnsmasq } from '../../../test/support/dnsmasq.ts';
import { freePort } from '../../../test/support/ports.ts';
import { checkEtcdCases, putKeys, startEtcdDns, type EtcdDnsServer } from '../../../test/support/etcd-dns.ts';
import { dig } from '../../../test/support/harness.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import { rcodeName } from '../../dns/constants.ts';
import { soa } from '../../../test/support/k8s-dns.ts';

async function answers(srv: EtcdDnsServer, name: string, type = 'A'): Promise<string[]> {
  const r = await dig(srv.port, type, name);
  return r.answer.map((a) => `${a.type} ${a.data}`);
}

async function rcode(srv: EtcdDnsServer, name: string, type = 'A'): Promise<string> {
  return rcodeName((await srv.query(name, type)).rcode);
}

/** Polls (bounded) until `check` holds for the dig answer. */
async function eventually(srv: EtcdDnsServer, name: string, check: (a: string[], rc: string) => boolean, timeoutMs = 10_000): Promise<void> {
  let last: string[] = [];
  let rc = '';
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 500; i++) {
    const r = await dig(srv.port, 'A', name);
    last = r.answer.map((a) => `${a.type} ${a.data}`);
    rc = r.status;
    if (check(last, rc)) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${name}: still ${rc} ${JSON.stringify(last)}`);
}

describe('etcd plugin over time (real etcd)', () => {
  let etcd: TestEtcd;
  let upstream: Dnsmasq;
  let srv: EtcdDnsServer;
  let httpPort: number;
  let readyPort: number;
  before(async () => {
    etcd = await startEtcd();
    upstream = await startDnsmasq(['--address=/only-upstream.fall.test/192.0.2.99']);
    await putKeys(etcd, { '/dns/com/node1': { host: '192.168.1.13' }, '/dns/test/fall/known': { host: '10.1.0.1' } });
    httpPort = await freePort();
    readyPort = await freePort();
    srv = await startEtcdDns([
      '.:0 {', '  bind 127.0.0.1', `  ready 127.0.0.1:${readyPort}`, `  prometheus 127.0.0.1:${httpPort}`,
      '  etcd {', '    path /dns', `    endpoint ${etcd.endpoint}`, '    fallthrough fall.test', '  }',
      `  forward . ${upstream.address}`, '}', '',
    ].join('\n'), { waitFor: 'node1.com.' });
  });
  after(async () => {
    await srv?.stop();
    await upstream?.stop();
    await etcd?.dispose();
  });

  test('the seed record: /dns/com/node1 with path /dns answers node1.com', () => checkEtcdCases(srv, [
    { name: 'node1.com.', type: 'A', rcode: 'NOERROR', answer: ['node1.com. 300 IN A 192.168.1.13'] },
  ]));

  test('fallthrough: a missing name in a fallthrough zone goes to the next plugin; elsewhere NXDOMAIN', async () => {
    assert.deepEqual(await answers(srv, 'only-upstream.fall.test.'), ['A 192.0.2.99']);
    assert.deepEqual(await answers(srv, 'known.fall.test.'), ['A 10.1.0.1']);
    assert.equal(upstream.queries('known.fall.test'), 0, 'names etcd knows never reach the next plugin');
    await checkEtcdCases(srv, [{ name: 'missing.com.', type: 'A', rcode: 'NXDOMAIN', authority: [soa('.', 30)] }]);
  });

  test('put and delete after start are answered; a bad value keeps the last good one (logged, counted) until fixed', async () => {
    const c = etcd.client();
    await c.put('/dns/com/later').value(JSON.stringify({ host: '10.2.0.1' }));
    await eventually(srv, 'later.com.', (a) => a.includes('A 10.2.0.1'));
    await c.put('/dns/com/later').value(JSON.stringify({ host: '10.2.0.2' }));
    await eventually(srv, 'later.com.', (a) => a.length === 1 && a[0] === 'A 10.2.0.2');
    // A bad value for a known key keeps its previous good value: one line naming the key, one count.
    const badValues = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      return Number(/coredns_etcd_bad_values_total\{server="[^"]*",path="\/dns"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await badValues();
    await c.put('/dns/com/later').value('{"host": ');
    await waitUntil(() => srv.logs.some((l) => l.includes('/dns/com/later: bad value')), { timeoutMs: 5000 });
    assert.deepEqual(srv.logs.filter((l) => l.includes('/dns/com/later: bad value')).map((l) => l.replace(/ \(.*\)/, '')),
      ['[WARNING] plugin/etcd: /dns/com/later: bad value; keeping its previous value']);
    assert.equal(await badValues(), before + 1, 'coredns_etcd_bad_values_total counted it');
    assert.deepEqual(await answers(srv, 'later.com.'), ['A 10.2.0.2']);
    // Fixed: the new value is served.
    await c.put('/dns/com/later').value(JSON.stringify({ host: '10.2.0.3' }));
    await eventually(srv, 'later.com.', (a) => a.length === 1 && a[0] === 'A 10.2.0.3');
    assert.ok(srv.logs.some((l) => l.includes('/dns/com/later: valid again')));
    assert.equal(await badValues(), before + 1, 'a good value is not counted');
    await c.delete().key('/dns/com/later');
    await eventually(srv, 'later.com.', (_a, rc) => rc === 'NXDOMAIN');
  });

  test('a key on a 3 s lease: TTL clamped to min-lease-ttl, gone once etcd expires the lease', async () => {
    const lease = etcd.client().lease(3, { autoKeepAlive: false });
    try {
      await lease.put('/dns/com/leased').value(JSON.stringify({ host: '10.3.0.1' }));
      await eventually(srv, 'leased.com.', (a) => a.includes('A 10.3.0.1'));
      const r = await dig(srv.port, 'A', 'leased.com.');
      assert.equal(r.answer[0]?.ttl, 30, 'a 3 s lease is clamped up to min-lease-ttl 30');
      await eventually(srv, 'leased.com.', (_a, rc) => rc === 'NXDOMAIN', 20_000);
    } finally {
      // Our clock may end it a moment before etcd does; a restart of etcd (next test) would renew a lease not yet revoked.
      await lease.revoke().catch(() => undefined);
    }
  });

  test('etcd stopped: known names keep answering, metrics say unsynced; new names appear once etcd is back', async () => {
    const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    assert.match(await metrics(), /coredns_etcd_synced\{server="[^"]*",path="\/dns"\} 1/);
    assert.equal((await fetch(`http://127.0.0.1:${readyPort}/ready`)).status, 200);
    await etcd.stop();
    await waitUntil(() => srv.logs.some((l) => /plugin\/etcd: etcd .* unreachable/.test(l)), { timeoutMs: 20_000 });
    assert.match(await metrics(), /coredns_etcd_synced\{server="[^"]*",path="\/dns"\} 0/);
    assert.match(await metrics(), /coredns_etcd_last_sync_timestamp_seconds\{server="[^"]*",path="\/dns"\} \d+/);
    await checkEtcdCases(srv, [{ name: 'node1.com.', type: 'A', rcode: 'NOERROR', answer: ['node1.com. 300 IN A 192.168.1.13'] }]);
    assert.equal(await rcode(srv, 'node1.com.'), 'NOERROR');
    await etcd.restart();
    await etcd.client().put('/dns/com/after').value(JSON.stringify({ host: '10.4.0.1' }));
    await eventually(srv, 'after.com.', (a) => a.includes('A 10.4.0.1'), 30_000);
    assert.deepEqual(await answers(srv, 'node1.com.'), ['A 192.168.1.13']);
    await waitUntil(() => srv.logs.some((l) => l.includes('etcd reachable again')), { timeoutMs: 5000 });
    const text = await metrics();
    assert.match(text, /coredns_etcd_records\{server="[^"]*",path="\/dns"\} 3/, text.split('\n').filter((l) => l.startsWith('coredns_etcd')).join('\n'));
  });
});

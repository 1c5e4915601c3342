/**
 * @module plugins/etcd/compaction.test
 * The etcd plugin when the revision it watches from is compacted while it
 * is cut off: a loopback TCP proxy between the plugin and a real etcd is
 * cut, keys are written and deleted and etcd is compacted to its current
 * revision through a direct client, the proxy is restored. The plugin's
 * resume is refused as compacted, it lists again (counted by
 * coredns_etcd_lists_total{reason="compacted"}), answers the new name and
 * no longer answers the deleted one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type TestEtcd } from '../../../test/support/etcd.ts';
import { freePort } from '../../../test/support/ports.ts';
import { checkEtcdCases, putKeys, startEtcdDns, type EtcdDnsServer } from '../../../test/support/etcd-dns.ts';
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import { soa } from '../../../test/support/k8s-dns.ts';

describe('etcd plugin: relist after a compacted revision (real etcd behind a proxy)', () => {
  let etcd: TestEtcd;
  let proxy: TcpProxy;
  let srv: EtcdDnsServer;
  let httpPort: number;
  const metric = async (re: RegExp): Promise<string | null> => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    return re.exec(text)?.[1] ?? null;
  };
  /** Bounded poll of the metrics page until `re` captures `want`. */
  const metricBecomes = async (re: RegExp, want: string): Promise<void> => {
    let seen: string | null = null;
    for (let i = 0; i < 200; i++) {
      seen = await metric(re);
      if (seen === want) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`${re}: ${seen}, want ${want}`);
  };
  before(async () => {
    etcd = await startEtcd();
    proxy = await startTcpProxy(Number(new URL(etcd.endpoint).port));
    await putKeys(etcd, { '/skydns/test/stay': { host: '10.5.0.1' }, '/skydns/test/gone': { host: '10.5.0.2' } });
    httpPort = await freePort();
    srv = await startEtcdDns([
      'test:0 {', '  bind 127.0.0.1', `  prometheus 127.0.0.1:${httpPort}`,
      '  etcd {', `    endpoint http://127.0.0.1:${proxy.port}`, '  }', '}', '',
    ].join('\n'), { waitFor: 'stay.test.' });
  });
  after(async () => {
    await srv?.stop();
    await proxy?.close();
    await etcd?.dispose();
  });

  test('cut, write, delete, compact, restore: the plugin relists and answers the new state', async () => {
    const lists = (reason: string): RegExp => new RegExp(`coredns_etcd_lists_total\\{server="[^"]*",path="/skydns",reason="${reason}"\\} (\\d+)`);
    const synced = /coredns_etcd_synced\{server="[^"]*",path="\/skydns"\} (\d)/;
    await metricBecomes(synced, '1');
    assert.equal(await metric(lists('start')), '1');
    assert.equal(await metric(lists('compacted')), '0');

    await proxy.cut();
    await metricBecomes(synced, '0');
    const c = etcd.client();
    await c.put('/skydns/test/new').value(JSON.stringify({ host: '10.5.0.3' }));
    await c.delete().key('/skydns/test/gone');
    const rev = (await c.kv.range({ key: Buffer.from('/skydns/test/stay') })).header.revision;
    await c.kv.compact({ revision: rev, physical: true });
    // Cut off, the plugin still answers what it had, the deleted name included.
    await checkEtcdCases(srv, [{ name: 'gone.test.', type: 'A', rcode: 'NOERROR', answer: ['gone.test. 300 IN A 10.5.0.2'] }]);

    await proxy.restore();
    await metricBecomes(lists('compacted'), '1');
    await metricBecomes(synced, '1');
    await waitUntil(() => srv.logs.some((l) => /plugin\/etcd: watch of \/skydns\/ from revision \d+ restarts from a fresh list: .*compacted/.test(l)), { timeoutMs: 1000 });
    await checkEtcdCases(srv, [
      { name: 'new.test.', type: 'A', rcode: 'NOERROR', answer: ['new.test. 300 IN A 10.5.0.3'] },
      { name: 'stay.test.', type: 'A', rcode: 'NOERROR', answer: ['stay.test. 300 IN A 10.5.0.1'] },
      { name: 'gone.test.', type: 'A', rcode: 'NXDOMAIN', authority: [soa('test.', 30)] },
    ]);
    assert.equal(await metric(lists('start')), '1', 'one first list, one relist');
  });
});

/**
 * @module cluster/etcd/prefix-watcher.test
 * The prefix watcher against a real etcd: first list, changes after it,
 * keys outside the prefix ignored, pagination, an etcd outage (the consumer
 * keeps its state, one log line per retry, the watch resumed once etcd is
 * back), leases ending by an injected clock while etcd is down, and stop().
 * Through a loopback TCP proxy that is cut and restored: a watch resumes
 * after a cut without listing; a revision compacted while cut makes it
 * relist (deleted keys go); another etcd behind the same address too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixWatcher, prefixRangeEnd, type EtcdKv } from './prefix-watcher.ts';
import { startEtcd, type TestEtcd } from '../../../test/support/etcd.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import { memoryLogger } from '../../log/logger.ts';
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy.ts';

/** A consumer that mirrors the prefix into a map and counts calls. */
function mirror() {
  const state = new Map<string, string>();
  const calls = { snapshots: 0, puts: 0, deletes: 0, expired: [] as string[] };
  return {
    state, calls,
    events: {
      onSnapshot(kvs: readonly EtcdKv[]) { calls.snapshots++; state.clear(); for (const kv of kvs) state.set(kv.key, kv.value.toString()); },
      onPut(kv: EtcdKv) { calls.puts++; state.set(kv.key, kv.value.toString()); },
      onDelete(key: string, _rev: number, why: string) { calls.deletes++; if (why === 'lease-expired') calls.expired.push(key); state.delete(key); },
    },
  };
}

describe('PrefixWatcher against a real etcd', () => {
  let etcd: TestEtcd;
  before(async () => { etcd = await startEtcd(); });
  after(async () => { await etcd.dispose(); });

  test('prefixRangeEnd increments the last byte', () => {
    assert.equal(prefixRangeEnd(Buffer.from('/a/')).toString(), '/a0');
    assert.deepEqual([...prefixRangeEnd(Buffer.from([0x61, 0xff]))], [0x62]);
  });

  test('lists in pages, then follows puts and deletes; other prefixes are not seen', async () => {
    const c = etcd.client();
    for (let i = 0; i < 25; i++) await c.put(`/w1/k${String(i).padStart(2, '0')}`).value(`v${i}`);
    await c.put('/w1x/outside').value('no');
    const m = mirror();
    const log = memoryLogger();
    const w = new PrefixWatcher({ connection: { endpoints: [etcd.endpoint] }, prefix: '/w1/', log, pageSize: 10 }, m.events);
    w.start();
    try {
      await waitUntil(() => w.synced, { timeoutMs: 5000 });
      assert.equal(m.calls.snapshots, 1);
      assert.equal(m.state.size, 25);
      assert.equal(m.state.get('/w1/k07'), 'v7');
      await c.put('/w1/new').value('fresh');
      await c.delete().key('/w1/k00');
      await c.put('/w1x/other').value('no');
      await waitUntil(() => m.state.get('/w1/new') === 'fresh' && !m.state.has('/w1/k00'), { timeoutMs: 3000 });
      assert.ok(![...m.state.keys()].some((k) => k.startsWith('/w1x')));
      assert.ok(w.revision > 0);
    } finally {
      await w.stop();
    }
    // Silence after stop: a put now reaches nobody.
    const puts = m.calls.puts;
    await c.put('/w1/after-stop').value('x');
    await c.get('/w1/after-stop').string();
    assert.equal(m.calls.puts, puts);
  });

  test('etcd down: state kept, one warning per retry, the watch resumed and new keys once back', async () => {
    const c = etcd.client();
    await c.put('/w2/keep').value('1');
    const m = mirror();
    const log = memoryLogger();
    const w = new PrefixWatcher({ connection: { endpoints: [etcd.endpoint], dialTimeoutMs: 500 }, prefix: '/w2/', log: log.plugin('etcd'), backoff: { initialMs: 50, maxMs: 200 } }, m.events);
    w.start();
    try {
      await waitUntil(() => w.synced, { timeoutMs: 5000 });
      await etcd.stop();
      await waitUntil(() => !w.synced && log.lines.some((l) => l.includes('unreachable')), { timeoutMs: 15_000 });
      assert.equal(m.state.get('/w2/keep'), '1', 'the last known state stays');
      assert.ok(log.lines.some((l) => /\[WARNING\] plugin\/etcd: etcd .* unreachable: .*serving the last known state.*retrying in \d+ ms/.test(l)), log.lines.join('\n'));
      const warnings = log.lines.filter((l) => l.includes('[WARNING]')).length;
      assert.equal(warnings, w.failedAttempts, 'one line per failed attempt (backoff period)');
      await etcd.restart();
      await etcd.client().put('/w2/added').value('2');
      await waitUntil(() => m.state.get('/w2/added') === '2', { timeoutMs: 20_000 });
      assert.equal(m.calls.snapshots, 1, 'resumed after the outage, not relisted (same cluster, revision not compacted)');
      assert.ok(w.resumes >= 1);
      assert.equal(m.state.get('/w2/keep'), '1');
      assert.ok(log.lines.some((l) => l.includes('etcd reachable again')));
    } finally {
      await w.stop();
    }
  });

  test('a lease ends by the clock while etcd is down; a live lease is re-asked and kept', async () => {
    const c = etcd.client();
    const lease = c.lease(60, { autoKeepAlive: false });
    await lease.put('/w3/leased').value('L');
    await c.put('/w3/plain').value('P');
    let now = 1_000_000;
    const m = mirror();
    const w = new PrefixWatcher({ connection: { endpoints: [etcd.endpoint], dialTimeoutMs: 500 }, prefix: '/w3/', log: memoryLogger(), clock: () => now, leaseCheckMs: 0, backoff: { initialMs: 50, maxMs: 200 } }, m.events);
    w.start();
    try {
      await waitUntil(() => w.synced && w.leaseEndOf('/w3/leased') !== null, { timeoutMs: 5000 });
      const end = w.leaseEndOf('/w3/leased')!;
      assert.ok(end > now + 50_000 && end <= now + 60_000, `lease end ${end - now} ms from now`);
      assert.equal(w.leaseEndOf('/w3/plain'), null);
      // etcd reachable: at the local end etcd is asked, still holds the lease (its own clock), so nothing goes.
      now = end + 1;
      assert.equal(await w.expireLeases(), 0);
      assert.ok(m.state.has('/w3/leased'));
      await etcd.stop();
      await waitUntil(() => !w.synced, { timeoutMs: 15_000 });
      now = w.leaseEndOf('/w3/leased')! + 1;
      assert.equal(await w.expireLeases(), 1);
      assert.deepEqual(m.calls.expired, ['/w3/leased']);
      assert.equal(m.state.get('/w3/plain'), 'P');
    } finally {
      await w.stop();
      await etcd.restart();
      await lease.revoke().catch(() => undefined);
    }
  });

  describe('through a proxy that is cut and restored', () => {
    let proxy: TcpProxy;
    let other: TestEtcd;
    before(async () => {
      proxy = await startTcpProxy(Number(new URL(etcd.endpoint).port));
      other = await startEtcd();
    });
    after(async () => {
      await proxy.close();
      await other.dispose();
    });
    const watch = (prefix: string, m: ReturnType<typeof mirror>, log = memoryLogger()): PrefixWatcher =>
      new PrefixWatcher({ connection: { endpoints: [`http://127.0.0.1:${proxy.port}`], dialTimeoutMs: 500 }, prefix, log: log.plugin('etcd'), backoff: { initialMs: 20, maxMs: 100 }, leaseCheckMs: 0 }, m.events);

    test('a cut resumes the watch without a list; a revision compacted meanwhile makes it relist', async () => {
      const c = etcd.client();
      await c.put('/w4/keep').value('1');
      await c.put('/w4/gone').value('2');
      const m = mirror();
      const log = memoryLogger();
      const w = watch('/w4/', m, log);
      w.start();
      try {
        await waitUntil(() => w.synced, { timeoutMs: 5000 });
        assert.deepEqual(w.listsFor, { start: 1, compacted: 0, reset: 0 });

        // Cut, write, restore: the watch picks up from the revision held; no list.
        await proxy.cut();
        await waitUntil(() => !w.synced, { timeoutMs: 5000 });
        await c.put('/w4/while-cut').value('3');
        await proxy.restore();
        await waitUntil(() => m.state.get('/w4/while-cut') === '3', { timeoutMs: 10_000 });
        assert.equal(w.lists, 1, 'resumed, not relisted');
        assert.equal(m.calls.snapshots, 1);
        assert.equal(w.resumes, 1);

        // Cut, change, compact to the current revision, restore: the resume is refused as compacted -> a fresh list.
        await proxy.cut();
        await waitUntil(() => !w.synced, { timeoutMs: 5000 });
        await c.put('/w4/new').value('4');
        await c.delete().key('/w4/gone');
        const rev = (await c.kv.range({ key: Buffer.from('/w4/keep') })).header.revision;
        await c.kv.compact({ revision: rev, physical: true });
        const held = w.revision;
        assert.ok(Number(rev) > held + 1, 'the revision to resume from is gone');
        await proxy.restore();
        await waitUntil(() => w.listsFor.compacted === 1 && w.synced, { timeoutMs: 10_000 });
        assert.equal(m.calls.snapshots, 2);
        assert.deepEqual(Object.fromEntries([...m.state].sort()), { '/w4/keep': '1', '/w4/new': '4', '/w4/while-cut': '3' });
        assert.equal(w.revision, Number(rev));
        assert.ok(log.lines.some((l) => l.includes(`watch of /w4/ from revision ${held + 1} restarts from a fresh list`) && l.includes('compacted')), log.lines.join('\n'));
        // Changes after the relist still arrive.
        await c.put('/w4/later').value('5');
        await waitUntil(() => m.state.get('/w4/later') === '5', { timeoutMs: 5000 });
      } finally {
        await w.stop();
      }
    });

    test('another etcd behind the same address (new cluster ID) is listed, not resumed', async () => {
      await etcd.client().put('/w5/old').value('1');
      await other.client().put('/w5/fresh').value('2');
      const m = mirror();
      const w = watch('/w5/', m);
      w.start();
      try {
        await waitUntil(() => w.synced, { timeoutMs: 5000 });
        assert.deepEqual([...m.state.keys()], ['/w5/old']);
        await proxy.cut();
        await waitUntil(() => !w.synced, { timeoutMs: 5000 });
        proxy.target = Number(new URL(other.endpoint).port);
        await proxy.restore();
        await waitUntil(() => w.listsFor.reset === 1 && w.synced, { timeoutMs: 10_000 });
        assert.deepEqual([...m.state.keys()], ['/w5/fresh']);
        assert.equal(w.resumes, 0);
      } finally {
        await w.stop();
        proxy.target = Number(new URL(etcd.endpoint).port);
      }
    });
  });
});

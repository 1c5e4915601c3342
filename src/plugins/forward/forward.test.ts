/**
 * @module plugins/forward/forward.test
 * forward against scripted upstreams on loopback: answers and TTLs, random
 * IDs and source ports, dead and black-hole upstreams (fail over, then
 * skipped), truncation retried over TCP, spoofed replies dropped, SERVFAIL
 * when nobody answers, max_concurrent, coalescing, except, next, pooling,
 * health-check recovery and the metrics.
 */
import { describe, it, after, before, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode, Type } from '../../dns/constants.ts';
import { rrs } from '../../dns/rr.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import { dig, inject, startServer, type TestServer } from '../../../test/support/harness.ts';
import { replyBytes, spoofedReply, startFakeUpstream, type FakeUpstream } from '../../../test/support/fake-upstream.ts';
import { ioUntil, waitUntil } from '../../../test/support/wait-until.ts';
import { READ_TIMEOUT_MS, type Forward } from './forward.ts';
import { INITIAL_TRY_MS } from './upstream.ts';
import { deadlineClock } from './deadlines.ts';
import { deadPort } from '../../../test/support/ports.ts';

const addrOf = (u: FakeUpstream): string => u.address;

/** Answers A with 192.0.2.1 (TTL 123) for every name, NXDOMAIN for nx.* names. */
function standard(u: { name: string; type: number }): { reply: { answer?: ReturnType<typeof rrs.a>[]; rcode?: number } } {
  if (u.name.startsWith('nx.')) return { reply: { rcode: Rcode.NXDOMAIN } };
  return { reply: { answer: u.type === Type.A ? [rrs.a(u.name, 123, '192.0.2.1')] : [] } };
}

function forwardOf(s: TestServer, index = 0): Forward {
  const hs = s.app.server.generation!.blocks[0]!.handlers.filter((h) => h.name === 'forward');
  return hs[index] as Forward;
}

async function metricValues(s: TestServer, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const m = metricsRegistry(s.app.services).getSingleMetric(name);
  if (!m) return [];
  return (await m.get()).values as { labels: Record<string, string | number>; value: number }[];
}

async function withServer(corefile: string, fn: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startServer(corefile);
  try { await fn(s); } finally { await s.stop(); }
}

const block = (body: string): string => `.:0 {\n bind 127.0.0.1\n errors\n${body}\n}\n`;

describe('forward: answers', () => {
  let up: FakeUpstream;
  before(async () => { up = await startFakeUpstream(standard); });
  after(() => up.close());

  it('returns the upstream answer with its TTLs, a fresh ID and EDNS0', async () => {
    await withServer(block(`forward . ${addrOf(up)}`), async (s) => {
      const m = await inject(s.app, 'www.example.org', 'A', { id: 4242 });
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.equal(m.id, 4242);
      assert.deepEqual(m.answer.map((r) => [r.name, r.ttl]), [['www.example.org.', 123]]);
      const q = up.queries.at(-1)!;
      assert.equal(q.name, 'www.example.org.');
      assert.notEqual(q.id, 4242);
      assert.equal(q.edns, true, 'a plain client query gets an OPT upstream');
      const nx = await inject(s.app, 'nx.example.org', 'A');
      assert.equal(nx.rcode, Rcode.NXDOMAIN);
    });
  });

  it('uses random IDs and a new source port per UDP query', async () => {
    await withServer(block(`forward . ${addrOf(up)}`), async (s) => {
      const before = up.queries.length;
      for (let i = 0; i < 12; i++) await inject(s.app, `p${i}.example.org`, 'A', { id: 1 });
      const qs = up.queries.slice(before);
      assert.equal(qs.length, 12);
      assert.ok(new Set(qs.map((q) => q.id)).size >= 10, 'IDs vary');
      assert.ok(new Set(qs.map((q) => q.remotePort)).size >= 10, 'source ports vary');
      assert.ok(qs.every((q) => q.transport === 'udp'));
    });
  });

  it('echoes the question case to a real client (dig)', async () => {
    await withServer(block(`forward . ${addrOf(up)}`), async (s) => {
      const r = await dig(s.port, 'WwW.Example.ORG', 'A');
      assert.equal(r.status, 'NOERROR');
      assert.match(r.raw, /;WwW\.Example\.ORG\.\s+IN\s+A/);
      assert.deepEqual(r.answer.map((a) => a.data), ['192.0.2.1']);
      assert.ok(r.flags.includes('qr') && r.flags.includes('rd'));
    });
  });

  it('goes over TCP when the client did, and over UDP with prefer_udp', async () => {
    await withServer(block(`forward . ${addrOf(up)}`), async (s) => {
      await inject(s.app, 'tcp-client.example.org', 'A', { transport: 'tcp' });
      assert.equal(up.count('tcp-client.example.org.', 'tcp'), 1);
    });
    await withServer(block(`forward . ${addrOf(up)} {\n prefer_udp\n}`), async (s) => {
      await inject(s.app, 'prefer.example.org', 'A', { transport: 'tcp' });
      assert.equal(up.count('prefer.example.org.', 'udp'), 1);
    });
  });

  it('passes excepted names on, and hands `next` rcodes to the next forward', async () => {
    const second = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '198.51.100.2')] } }));
    try {
      await withServer(block(`forward . ${addrOf(up)} {\n except internal.example\n next NXDOMAIN\n}\nforward . ${addrOf(second)}`), async (s) => {
        const ex = await inject(s.app, 'a.internal.example', 'A');
        assert.deepEqual(ex.answer.map((r) => r.data.join('.')), ['198.51.100.2'], 'excepted name went to the next forward');
        assert.equal(up.count('a.internal.example.'), 0);
        const nx = await inject(s.app, 'nx.example.org', 'A');
        assert.equal(nx.rcode, Rcode.NOERROR);
        assert.deepEqual(nx.answer.map((r) => r.data.join('.')), ['198.51.100.2']);
        const ok = await inject(s.app, 'fine.example.org', 'A');
        assert.deepEqual(ok.answer.map((r) => r.data.join('.')), ['192.0.2.1']);
      });
    } finally { await second.close(); }
  });
});

/**
 * Mocks setTimeout, setInterval and Date (the deadline queue's clock) from now
 * until the test ends: forward's per-try and read timeouts fire only when the test ticks. A lookup that completes without a tick
 * provably waited for no timeout. Real I/O still runs (see ioUntil).
 */
function mockTimeouts(t: { after: (fn: () => void) => void }): void {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.now() });
  const real = deadlineClock.now;
  deadlineClock.now = () => Date.now();
  t.after(() => { mock.timers.reset(); deadlineClock.now = real; });
}

/** True once `p` has settled, letting I/O run for at most `ms` of real time. */
async function settlesWithin(p: Promise<unknown>, ms = 2000): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; }, () => { done = true; });
  return ioUntil(() => done, ms);
}

describe('forward: broken upstreams', () => {
  it('a dead first upstream costs nothing: every lookup answers without a read timeout, and it is skipped after max_fails', async (t) => {
    const live = await startFakeUpstream(standard);
    const dead = await deadPort();
    try {
      await withServer(block(`forward . 127.0.0.1:${dead} ${addrOf(live)} {\n policy sequential\n health_check 10s\n}`), async (s) => {
        const f = forwardOf(s);
        mockTimeouts(t);
        for (let i = 0; i < 6; i++) {
          const lookup = inject(s.app, `d${i}.example.org`, 'A');
          assert.ok(await settlesWithin(lookup), `lookup ${i} answered with no timer fired: no read timeout waited on the dead upstream`);
          assert.equal((await lookup).rcode, Rcode.NOERROR, `lookup ${i}`);
        }
        assert.equal(f.upstreams[0]!.down, true, 'dead upstream is marked down');
        assert.equal(f.upstreams[0]!.fails, 2, 'skipped once down: no further failures counted');
        assert.equal(f.upstreams[1]!.down, false);
      });
    } finally { await live.close(); }
  });

  it('a black hole: the query fails over at the per-try timeout, the black hole is marked down and skipped', async (t) => {
    const hole = await startFakeUpstream(() => ({}));
    const live = await startFakeUpstream(standard);
    try {
      await withServer(block(`forward . ${addrOf(hole)} ${addrOf(live)} {\n policy sequential\n max_fails 1\n health_check 10s\n}`), async (s) => {
        mockTimeouts(t);
        const f = forwardOf(s);
        assert.equal(f.upstreams[0]!.tryTimeoutMs, INITIAL_TRY_MS, 'not measured yet: the initial per-try timeout');
        const first = inject(s.app, 'bh1.example.org', 'A');
        assert.ok(await ioUntil(() => hole.count('bh1.example.org.') === 1), 'the black hole got the query');
        mock.timers.tick(INITIAL_TRY_MS - 1);
        assert.equal(await settlesWithin(first, 300), false, 'still waiting 1 ms before the per-try timeout');
        assert.equal(live.count('bh1.example.org.'), 0);
        mock.timers.tick(1);
        assert.ok(await settlesWithin(first), 'failed over at the per-try timeout, not the 2 s read timeout');
        assert.equal((await first).rcode, Rcode.NOERROR);
        assert.equal(f.upstreams[0]!.down, true, 'one try past the per-try timeout is a failure: max_fails 1 marks it down');
        assert.equal(f.upstreams[0]!.tryTimeoutMs, 2 * INITIAL_TRY_MS, 'its per-try timeout backed off');
        assert.ok(f.upstreams[1]!.srttMs !== null, 'the good upstream has a measured RTT');
        // The black hole's own try runs on to the read timeout (a late answer would still count), then ends.
        mock.timers.tick(READ_TIMEOUT_MS);
        assert.ok(await ioUntil(() => f.upstreams[0]!.udpStats.timeouts === 1), 'the first try ended at the read timeout');
        const second = inject(s.app, 'bh2.example.org', 'A');
        assert.ok(await settlesWithin(second), 'black hole skipped: answered with no timer fired');
        assert.equal((await second).rcode, Rcode.NOERROR);
        assert.equal(hole.count('bh2.example.org.'), 0);
      });
    } finally { await hole.close(); await live.close(); }
  });

  it('a slow first upstream: past its per-try timeout the next is asked too, and the slow answer still wins when it comes first', async (t) => {
    const slow = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '192.0.2.7')] }, delayMs: 600 }));
    const hole = await startFakeUpstream(() => ({}));
    try {
      await withServer(block(`forward . ${addrOf(slow)} ${addrOf(hole)} {\n policy sequential\n max_fails 3\n}`), async (s) => {
        mockTimeouts(t);
        const f = forwardOf(s);
        const m = inject(s.app, 'slow.example.org', 'A');
        assert.ok(await ioUntil(() => slow.count('slow.example.org.') === 1));
        mock.timers.tick(INITIAL_TRY_MS);
        assert.ok(await ioUntil(() => hole.count('slow.example.org.') === 1), 'the second upstream is asked at the per-try timeout');
        assert.equal(await settlesWithin(m, 300), false);
        mock.timers.tick(600 - INITIAL_TRY_MS);
        assert.ok(await settlesWithin(m), 'the slow answer arrived and was taken');
        assert.deepEqual((await m).answer.map((r) => r.data.join('.')), ['192.0.2.7']);
        assert.equal(f.upstreams[0]!.fails, 0, 'an answer, even late, resets the failures');
        assert.ok(f.upstreams[0]!.srttMs! >= 600, `its RTT is measured (${f.upstreams[0]!.srttMs} ms)`);
        mock.timers.tick(READ_TIMEOUT_MS);
        assert.ok(await ioUntil(() => f.upstreams[1]!.udpStats.timeouts === 1), 'the black hole try ended');
      });
    } finally { await slow.close(); await hole.close(); }
  });

  it('the last (or only) upstream is waited for up to the read timeout, not the per-try timeout', async (t) => {
    const slow = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '192.0.2.8')] }, delayMs: 1500 }));
    try {
      await withServer(block(`forward . ${addrOf(slow)}`), async (s) => {
        mockTimeouts(t);
        const m = inject(s.app, 'only.example.org', 'A');
        assert.ok(await ioUntil(() => slow.count('only.example.org.') === 1));
        mock.timers.tick(1499);
        assert.equal(await settlesWithin(m, 300), false, 'still waiting, well past the per-try timeout');
        mock.timers.tick(1);
        assert.ok(await settlesWithin(m));
        assert.equal((await m).rcode, Rcode.NOERROR);
      });
    } finally { await slow.close(); }
  });

  it('SERVFAIL with the error logged when no upstream answers', async (t) => {
    const a = await deadPort(), b = await deadPort();
    await withServer(block(`forward . 127.0.0.1:${a} 127.0.0.1:${b}`), async (s) => {
      mockTimeouts(t);
      const lookup = inject(s.app, 'gone.example.org', 'A');
      assert.ok(await settlesWithin(lookup), 'refused at once: answered with no timer fired');
      assert.equal((await lookup).rcode, Rcode.SERVFAIL);
      assert.ok(await ioUntil(() => s.logs.some((l) => l.includes('[ERROR] plugin/errors: 2 gone.example.org. A:'))), s.logs.join('\n'));
      // Now both are down: one is tried anyway (the health checks may be what is broken).
      await inject(s.app, 'gone2.example.org', 'A');
      await inject(s.app, 'gone3.example.org', 'A');
      const broken = await metricValues(s, 'coredns_forward_healthcheck_broken_total');
      assert.ok(broken[0]!.value >= 1);
    });
  });

  it('retries a truncated UDP answer over TCP', async () => {
    const big = Array.from({ length: 40 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    const up = await startFakeUpstream((q) => ({ reply: { answer: big.map((ip) => rrs.a(q.name, 60, ip)) }, truncateUdp: true }));
    try {
      await withServer(block(`forward . ${addrOf(up)}`), async (s) => {
        const m = await inject(s.app, 'big.example.org', 'A', { transport: 'tcp' });
        assert.equal(m.answer.length, 40);
        const u = await inject(s.app, 'big2.example.org', 'A', { udpSize: 4096 });
        assert.equal(u.answer.length, 40);
        assert.equal(up.count('big2.example.org.', 'udp'), 1);
        assert.equal(up.count('big2.example.org.', 'tcp'), 1);
      });
    } finally { await up.close(); }
  });

  it('drops spoofed replies (wrong ID, wrong question) and keeps waiting for the real one', async () => {
    const up = await startFakeUpstream((q) => ({
      before: [
        replyBytes(q, { answer: [rrs.a(q.name, 300, '6.6.6.6')] }, { id: q.id ^ 0x5555 }),
        spoofedReply(q, 'evil.example.', '6.6.6.7'),
      ],
      reply: { answer: [rrs.a(q.name, 30, '192.0.2.44')] },
    }));
    try {
      await withServer(block(`forward . ${addrOf(up)}`), async (s) => {
        const m = await inject(s.app, 'target.example.org', 'A');
        assert.deepEqual(m.answer.map((r) => r.data.join('.')), ['192.0.2.44']);
        assert.equal(forwardOf(s).upstreams[0]!.udpStats.mismatched, 2);
        const t = await inject(s.app, 'target2.example.org', 'A', { transport: 'tcp' });
        assert.deepEqual(t.answer.map((r) => r.data.join('.')), ['192.0.2.44'], 'over TCP too');
      });
    } finally { await up.close(); }
  });
});

describe('forward: load', () => {
  it('max_concurrent answers REFUSED beyond the limit and counts it', async () => {
    const up = await startFakeUpstream((q) => ({ ...standard(q), delayMs: 300 }));
    try {
      await withServer(block(`forward . ${addrOf(up)} {\n max_concurrent 2\n}`), async (s) => {
        const before = (await metricValues(s, 'coredns_forward_max_concurrent_rejects_total'))[0]?.value ?? 0;
        const rs = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((n) => inject(s.app, `${n}.example.org`, 'A')));
        assert.deepEqual(rs.map((r) => r.rcode).sort(), [Rcode.NOERROR, Rcode.NOERROR, Rcode.REFUSED, Rcode.REFUSED]);
        const after = (await metricValues(s, 'coredns_forward_max_concurrent_rejects_total'))[0]!.value;
        assert.equal(after - before, 2);
      });
    } finally { await up.close(); }
  });

  it('coalesces identical questions in flight into one upstream query', async () => {
    const up = await startFakeUpstream((q) => ({ ...standard(q), delayMs: 150 }));
    try {
      await withServer(block(`forward . ${addrOf(up)}`), async (s) => {
        const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => inject(s.app, 'same.example.org', 'A', { id: 100 + i })));
        assert.deepEqual(rs.map((r) => r.id), [100, 101, 102, 103, 104, 105]);
        assert.ok(rs.every((r) => r.answer.length === 1));
        assert.equal(up.count('same.example.org.'), 1);
        await inject(s.app, 'same.example.org', 'AAAA');
        assert.equal(up.count('same.example.org.'), 2, 'another type is another question');
      });
    } finally { await up.close(); }
  });
});

describe('forward: connections and health', () => {
  it('reuses one pooled TCP connection and expires it when idle', async () => {
    const up = await startFakeUpstream(standard);
    try {
      await withServer(block(`forward . ${addrOf(up)} {\n force_tcp\n expire 300ms\n}`), async (s) => {
        for (let i = 0; i < 4; i++) await inject(s.app, `t${i}.example.org`, 'A');
        const many = await Promise.all(Array.from({ length: 5 }, (_, i) => inject(s.app, `par${i}.example.org`, 'A')));
        assert.ok(many.every((m) => m.rcode === Rcode.NOERROR));
        assert.equal(up.connections, 1, 'all queries over one connection');
        assert.equal(up.queries.filter((q) => q.transport === 'tcp').length, 9);
        const to = addrOf(up);
        const hits = (await metricValues(s, 'coredns_proxy_conn_cache_hits_total')).find((v) => v.labels.to === to && v.labels.proto === 'tcp');
        const misses = (await metricValues(s, 'coredns_proxy_conn_cache_misses_total')).find((v) => v.labels.to === to && v.labels.proto === 'tcp');
        assert.equal(misses!.value, 1);
        assert.equal(hits!.value, 8);
        await waitUntil(() => up.openConnections === 0, { timeoutMs: 2000, message: 'idle connection expired' });
        assert.equal(forwardOf(s).upstreams[0]!.tcp.size, 0);
        await inject(s.app, 'again.example.org', 'A');
        assert.equal(up.connections, 2);
      });
    } finally { await up.close(); }
  });

  it('probes a failed upstream in the background and takes it back once it answers', async () => {
    let healthy = false;
    const up = await startFakeUpstream((q) => (healthy ? standard(q) : {}));
    const backup = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '198.51.100.9')] } }));
    try {
      await withServer(block(`forward . ${addrOf(up)} ${addrOf(backup)} {\n policy sequential\n max_fails 1\n health_check 100ms\n}`), async (s) => {
        const f = forwardOf(s);
        const first = await inject(s.app, 'h1.example.org', 'A');
        assert.deepEqual(first.answer.map((r) => r.data.join('.')), ['198.51.100.9']);
        assert.equal(f.upstreams[0]!.down, true);
        await waitUntil(() => up.count('.') >= 1, { timeoutMs: 2000, message: 'probe sent' });
        assert.equal(up.queries.find((q) => q.name === '.')!.type, Type.NS);
        healthy = true;
        await waitUntil(() => !f.upstreams[0]!.down, { timeoutMs: 4000, message: 'back up after a probe answered' });
        const again = await inject(s.app, 'h2.example.org', 'A');
        assert.deepEqual(again.answer.map((r) => r.data.join('.')), ['192.0.2.1']);
        const failures = (await metricValues(s, 'coredns_proxy_healthcheck_failures_total')).find((v) => v.labels.to === addrOf(up));
        assert.ok(failures!.value >= 1, 'the probe sent while it was silent counted as a failed health check');
        assert.equal(f.upstreams[0]!.probing, false, 'probing stops once healthy');
      });
    } finally { await up.close(); await backup.close(); }
  });

  it('exports the CoreDNS metric names and labels', async () => {
    const up = await startFakeUpstream(standard);
    try {
      await withServer(block(`forward . ${addrOf(up)}`), async (s) => {
        await inject(s.app, 'm.example.org', 'A');
        await inject(s.app, 'nx.example.org', 'A');
        const text = await metricsRegistry(s.app.services).metrics();
        assert.match(text, new RegExp(`coredns_proxy_request_duration_seconds_count\\{proxy_name="forward",to="${addrOf(up)}",rcode="NOERROR"\\} \\d+`));
        assert.match(text, new RegExp(`coredns_proxy_request_duration_seconds_count\\{proxy_name="forward",to="${addrOf(up)}",rcode="NXDOMAIN"\\} 1`));
        assert.match(text, /coredns_proxy_request_duration_seconds_bucket\{le="0.00025",/);
        assert.match(text, new RegExp(`coredns_proxy_conn_cache_misses_total\\{proxy_name="forward",to="${addrOf(up)}",proto="udp"\\} \\d+`));
        for (const name of ['coredns_proxy_healthcheck_failures_total', 'coredns_proxy_conn_cache_hits_total',
          'coredns_forward_max_concurrent_rejects_total', 'coredns_forward_healthcheck_broken_total']) {
          assert.match(text, new RegExp(`# TYPE ${name} counter`));
        }
      });
    } finally { await up.close(); }
  });
});

describe('forward: stub domains', () => {
  it('routes a zone to its own upstream with a second server block', async () => {
    const corp = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '10.0.0.53')] } }));
    const world = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '192.0.2.80')] } }));
    try {
      const corefile = `corp.example:0 {\n bind 127.0.0.1\n forward . ${addrOf(corp)}\n}\n.:0 {\n bind 127.0.0.1\n forward . ${addrOf(world)}\n}\n`;
      await withServer(corefile, async (s) => {
        const a = await dig(s.port, 'git.corp.example', 'A');
        assert.deepEqual(a.answer.map((r) => r.data), ['10.0.0.53']);
        const b = await dig(s.port, 'www.example.com', 'A');
        assert.deepEqual(b.answer.map((r) => r.data), ['192.0.2.80']);
        assert.equal(corp.count('git.corp.example.'), 1);
        assert.equal(world.count('git.corp.example.'), 0);
        assert.equal(world.count('www.example.com.'), 1);
      });
    } finally { await corp.close(); await world.close(); }
  });
});


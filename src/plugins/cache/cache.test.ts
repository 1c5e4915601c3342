/**
 * @module plugins/cache/cache.test
 * The cache in front of forward and a scripted upstream, with the cache's
 * clock under the test's control: hits, TTL ageing, caps and floors,
 * expiry, negative caching from the SOA minimum, DO/CD in the key,
 * SERVFAIL caching, eviction, prefetch, serve_stale (immediate and verify),
 * keepttl, zones and disable, the metrics, and a real dig.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode, Type } from '../../dns/constants.ts';
import type { DecodedMessage } from '../../dns/message.ts';
import { rdata, rr, rrs, type RR } from '../../dns/rr.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import { dig, inject, startServer, type TestServer } from '../../../test/support/harness.ts';
import { startFakeUpstream, type FakeAnswer, type FakeQuery, type FakeUpstream } from '../../../test/support/fake-upstream.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import type { Cache } from './cache.ts';

const soa = (zone: string, ttl: number, minimum: number): RR =>
  rr(zone, Type.SOA, ttl, rdata.soa(`ns.${zone}`, `admin.${zone}`, 1, 7200, 1800, 86400, minimum));

/** ttl.N.* answers A with TTL N; nx.* NXDOMAIN with SOA (TTL 3600, minimum 60); nodata.* NODATA; fail.* SERVFAIL. */
function scripted(q: FakeQuery): FakeAnswer {
  const [first, second] = q.name.split('.');
  if (first === 'nx') return { reply: { rcode: Rcode.NXDOMAIN, authority: [soa('example.org.', 3600, 60)] } };
  if (first === 'nodata') return { reply: { authority: [soa('example.org.', 20, 3600)] } };
  if (first === 'fail') return { reply: { rcode: Rcode.SERVFAIL } };
  const ttl = first === 'ttl' ? Number(second) : 300;
  if (q.type !== Type.A) return { reply: { authority: [soa('example.org.', 60, 60)] } };
  const answer = [rrs.a(q.name, ttl, '192.0.2.1'), rrs.a(q.name, ttl + 100, '192.0.2.2')];
  return { reply: { answer, additional: q.do ? [rrs.txt(q.name, ttl, 'signed')] : [] } };
}

let up: FakeUpstream;
before(async () => { up = await startFakeUpstream(scripted); });
after(() => up.close());

interface Harness {
  s: TestServer;
  cache: Cache;
  clock: { t: number };
  ask(name: string, type?: string, opts?: Parameters<typeof inject>[3]): Promise<DecodedMessage>;
}

async function withCache(cacheLines: string, fn: (h: Harness) => Promise<void>, forwardTo = up.address): Promise<void> {
  const s = await startServer(`.:0 {\n bind 127.0.0.1\n ${cacheLines}\n forward . ${forwardTo}\n}\n`);
  const cache = s.app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'cache') as Cache;
  const clock = { t: 1_000_000 };
  cache.now = () => clock.t;
  try {
    await fn({ s, cache, clock, ask: (name, type = 'A', opts = {}) => inject(s.app, name, type, opts) });
  } finally { await s.stop(); }
}

const ttls = (m: DecodedMessage): number[] => m.answer.map((r) => r.ttl);

describe('cache: hits and TTLs', () => {
  it('answers the second query from the cache: one upstream query, TTLs aged, AA set', async () => {
    await withCache('cache', async (h) => {
      const first = await h.ask('hit.example.org');
      assert.deepEqual(ttls(first), [300, 300], 'the whole reply gets the lowest TTL');
      h.clock.t += 7_400;
      const second = await h.ask('hit.example.org', 'A', { id: 777 });
      assert.equal(second.id, 777);
      assert.deepEqual(ttls(second), [293, 293]);
      assert.ok((second.flags & 0x0400) !== 0, 'AA on cached answers, as CoreDNS');
      assert.deepEqual(second.answer.map((r) => r.data.join('.')), ['192.0.2.1', '192.0.2.2']);
      assert.equal(up.count('hit.example.org.'), 1);
    });
  });

  it('caps TTLs at the maximum and lifts them to the minimum', async () => {
    await withCache('cache 30', async (h) => {
      assert.deepEqual(ttls(await h.ask('ttl.86400.example.org')), [30, 30]);
      assert.deepEqual(ttls(await h.ask('ttl.0.example.org')), [5, 5]);
    });
    await withCache('cache', async (h) => {
      assert.deepEqual(ttls(await h.ask('ttl.86400.example.org')), [3600, 3600]);
    });
  });

  it('expires entries after their TTL', async () => {
    await withCache('cache', async (h) => {
      const before = up.count('ttl.10.example.org.');
      await h.ask('ttl.10.example.org');
      h.clock.t += 9_900;
      assert.deepEqual(ttls(await h.ask('ttl.10.example.org')), [1, 1]);
      assert.equal(up.count('ttl.10.example.org.'), before + 1);
      h.clock.t += 200;
      assert.deepEqual(ttls(await h.ask('ttl.10.example.org')), [10, 10], 'fetched again');
      assert.equal(up.count('ttl.10.example.org.'), before + 2);
    });
  });

  it('caches NXDOMAIN for the SOA minimum (RFC 2308) and NODATA for the SOA TTL when lower', async () => {
    await withCache('cache', async (h) => {
      const nx = await h.ask('nx.example.org');
      assert.equal(nx.rcode, Rcode.NXDOMAIN);
      assert.deepEqual(nx.authority.map((r) => r.ttl), [60]);
      h.clock.t += 59_000;
      const again = await h.ask('nx.example.org');
      assert.equal(again.rcode, Rcode.NXDOMAIN);
      assert.deepEqual(again.authority.map((r) => r.ttl), [1]);
      assert.equal(up.count('nx.example.org.'), 1);
      h.clock.t += 1_000;
      await h.ask('nx.example.org');
      assert.equal(up.count('nx.example.org.'), 2);
      const nodata = await h.ask('nodata.example.org');
      assert.equal(nodata.rcode, Rcode.NOERROR);
      assert.deepEqual(nodata.authority.map((r) => r.ttl), [20]);
      await h.ask('nodata.example.org');
      assert.equal(up.count('nodata.example.org.'), 1);
    });
  });

  it('keeps DO and CD in the key', async () => {
    await withCache('cache', async (h) => {
      const plain = await h.ask('dnssec.example.org');
      const signed = await h.ask('dnssec.example.org', 'A', { udpSize: 1232, do: true });
      assert.equal(plain.additional.length, 0);
      assert.equal(signed.additional.length, 1);
      assert.equal(up.count('dnssec.example.org.'), 2);
      assert.equal((await h.ask('dnssec.example.org', 'A', { udpSize: 1232, do: true })).additional.length, 1);
      assert.equal((await h.ask('dnssec.example.org')).additional.length, 0);
      assert.equal(up.count('dnssec.example.org.'), 2);
      await h.ask('dnssec.example.org', 'A', { cd: true });
      assert.equal(up.count('dnssec.example.org.'), 3);
    });
  });

  it('caches SERVFAIL for the servfail duration only', async () => {
    await withCache('cache {\n servfail 2s\n }', async (h) => {
      assert.equal((await h.ask('fail.example.org')).rcode, Rcode.SERVFAIL);
      assert.equal((await h.ask('fail.example.org')).rcode, Rcode.SERVFAIL);
      assert.equal(up.count('fail.example.org.'), 1);
      h.clock.t += 2_000;
      await h.ask('fail.example.org');
      assert.equal(up.count('fail.example.org.'), 2);
    });
    await withCache('cache {\n servfail 0\n }', async (h) => {
      const n = up.count('fail.example.org.');
      await h.ask('fail.example.org');
      await h.ask('fail.example.org');
      assert.equal(up.count('fail.example.org.'), n + 2);
    });
  });

  it('keepttl serves the TTLs as they came', async () => {
    await withCache('cache {\n keepttl\n }', async (h) => {
      await h.ask('keep.example.org');
      h.clock.t += 10_000;
      assert.deepEqual(ttls(await h.ask('keep.example.org')), [300, 400]);
    });
  });

  it('caches only its zones, and not what disable names', async () => {
    await withCache('cache 30 cached.example {\n disable denial cached.example\n }', async (h) => {
      await h.ask('a.cached.example'); await h.ask('a.cached.example');
      assert.equal(up.count('a.cached.example.'), 1);
      await h.ask('a.other.example'); await h.ask('a.other.example');
      assert.equal(up.count('a.other.example.'), 2);
      await h.ask('nx.cached.example'); await h.ask('nx.cached.example');
      assert.equal(up.count('nx.cached.example.'), 2);
    });
  });
});

describe('cache: capacity, prefetch, stale', () => {
  it('evicts beyond capacity and counts evictions', async () => {
    await withCache('cache {\n success 2\n }', async (h) => {
      await h.ask('e1.example.org'); await h.ask('e2.example.org');
      await h.ask('e1.example.org'); // hit: e1 gets a second chance
      await h.ask('e3.example.org');
      assert.equal(h.cache.entries('success'), 2);
      await h.ask('e1.example.org');
      assert.equal(up.count('e1.example.org.'), 1, 'the hit entry stayed');
      await h.ask('e2.example.org');
      assert.equal(up.count('e2.example.org.'), 2, 'the unhit one was evicted');
      const text = await metricsRegistry(h.s.app.services).metrics();
      assert.match(text, /coredns_cache_evictions_total\{server="dns:\/\/127\.0\.0\.1:\d+",type="success",zones="\.",view=""\} [1-9]/);
    });
  });

  it('prefetches a popular entry close to expiry', async () => {
    await withCache('cache {\n prefetch 2 1m 50%\n }', async (h) => {
      await h.ask('ttl.10.prefetch.example.org');
      h.clock.t += 2_000;
      await h.ask('ttl.10.prefetch.example.org'); // 1 hit, 8s left of 10: not yet
      h.clock.t += 4_000;
      const hot = await h.ask('ttl.10.prefetch.example.org'); // 2 hits, 4s left <= 5s: prefetch
      assert.deepEqual(ttls(hot), [4, 4], 'the hit itself is still the old entry');
      await waitUntil(() => up.count('ttl.10.prefetch.example.org.') === 2, { timeoutMs: 2000, message: 'prefetched' });
      await waitUntil(() => h.cache.store.get('ttl.10.prefetch.example.org.', Type.A, 1, 0)!.storedMs === h.clock.t, { timeoutMs: 2000 });
      assert.deepEqual(ttls(await h.ask('ttl.10.prefetch.example.org')), [10, 10]);
      const text = await metricsRegistry(h.s.app.services).metrics();
      assert.match(text, /coredns_cache_prefetch_total\{server="dns:\/\/127\.0\.0\.1:\d+",zones="\.",view=""\} 1/);
    });
  });

  it('serve_stale (immediate): an expired entry is served with TTL 0 while it is refreshed', async () => {
    let down = false;
    const flaky = await startFakeUpstream((q) => (down ? { reply: { rcode: Rcode.SERVFAIL } } : scripted(q)));
    try {
      await withCache('cache {\n serve_stale 1h\n }', async (h) => {
        await h.ask('stale.example.org');
        down = true;
        h.clock.t += 400_000;
        const stale = await h.ask('stale.example.org');
        assert.equal(stale.rcode, Rcode.NOERROR);
        assert.deepEqual(ttls(stale), [0, 0]);
        await waitUntil(() => flaky.count('stale.example.org.') === 2, { timeoutMs: 2000, message: 'refresh tried' });
        await waitUntil(() => !h.cache.store.get('stale.example.org.', Type.A, 1, 0)!.refreshing, { timeoutMs: 2000 });
        assert.deepEqual(ttls(await h.ask('stale.example.org')), [0, 0], 'the failed refresh kept the stale entry');
        down = false;
        await waitUntil(() => flaky.count('stale.example.org.') === 3, { timeoutMs: 2000, message: 'second refresh' });
        await waitUntil(() => h.cache.store.get('stale.example.org.', Type.A, 1, 0)!.storedMs === h.clock.t, { timeoutMs: 2000 });
        assert.deepEqual(ttls(await h.ask('stale.example.org')), [300, 300], 'refreshed');
        h.clock.t += 3_600_000 + 300_000;
        down = true;
        assert.equal((await h.ask('stale.example.org')).rcode, Rcode.SERVFAIL, 'beyond the stale window');
        const text = await metricsRegistry(h.s.app.services).metrics();
        assert.match(text, /coredns_cache_served_stale_total\{server="dns:\/\/127\.0\.0\.1:\d+",zones="\.",view=""\} 2/);
      }, flaky.address);
    } finally { await flaky.close(); }
  });

  it('serve_stale verify: the upstream is asked first; while it is down the stale entry is served with TTL 30', async () => {
    const flaky = await startFakeUpstream(scripted);
    const address = flaky.address;
    await withCache('cache {\n serve_stale 1h verify\n }', async (h) => {
      await h.ask('verify.example.org');
      h.clock.t += 301_000;
      assert.deepEqual(ttls(await h.ask('verify.example.org')), [300, 300], 'refreshed from the live upstream');
      assert.equal(flaky.count('verify.example.org.'), 2);
      await flaky.close(); // now nothing listens: forward fails at once
      h.clock.t += 301_000;
      const stale = await h.ask('verify.example.org');
      assert.equal(stale.rcode, Rcode.NOERROR);
      assert.deepEqual(ttls(stale), [30, 30]);
      assert.deepEqual(stale.answer.map((r) => r.data.join('.')), ['192.0.2.1', '192.0.2.2']);
    }, address);
  });
});

describe('cache: metrics and clients', () => {
  it('counts requests, hits and misses with CoreDNS labels', async () => {
    await withCache('cache 30 example.org', async (h) => {
      await h.ask('m1.example.org'); await h.ask('m1.example.org'); await h.ask('m1.example.org');
      await h.ask('nx.example.org'); await h.ask('nx.example.org');
      const text = await metricsRegistry(h.s.app.services).metrics();
      const server = 'dns://127.0.0.1:\\d+';
      assert.match(text, new RegExp(`coredns_cache_requests_total\\{server="${server}",zones="example.org.",view=""\\} 5`));
      assert.match(text, new RegExp(`coredns_cache_misses_total\\{server="${server}",zones="example.org.",view=""\\} 2`));
      assert.match(text, new RegExp(`coredns_cache_hits_total\\{server="${server}",type="success",zones="example.org.",view=""\\} 2`));
      assert.match(text, new RegExp(`coredns_cache_hits_total\\{server="${server}",type="denial",zones="example.org.",view=""\\} 1`));
      assert.match(text, new RegExp(`coredns_cache_entries\\{server="${server}",type="success",zones="example.org.",view=""\\} 1`));
      assert.match(text, new RegExp(`coredns_cache_entries\\{server="${server}",type="denial",zones="example.org.",view=""\\} 1`));
    });
  });

  it('serves a real client from the cache with its own question case', async () => {
    await withCache('cache', async (h) => {
      await dig(h.s.port, 'case.example.org', 'A');
      const r = await dig(h.s.port, 'CaSe.Example.ORG', 'A');
      assert.equal(r.status, 'NOERROR');
      assert.ok(r.flags.includes('aa'));
      assert.deepEqual(r.answer.map((a) => a.name), ['CaSe.Example.ORG.', 'CaSe.Example.ORG.']);
      assert.equal(up.count('case.example.org.'), 1);
    });
  });
});

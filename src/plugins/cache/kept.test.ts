/**
 * @module plugins/cache/kept.test
 * The cache in front of the kubernetes plugin, whose answers are kept
 * pre-encoded (Reply.kept): they pass the cache unstored (no entries, each
 * counted as a miss and as passed, TTLs never aged, an edited manifest
 * answers at once although the cache's clock stands still), forwarded
 * answers are still stored, and an entry stored before the answer was kept
 * is dropped once a refresh brings the kept answer (never served stale on).
 * Under the zones the plugin keeps (no fallthrough there) the cache does not
 * even look its store up, until it stores one of the few answers the plugin
 * does not keep. Real dig over UDP; the cache's clock is the test's.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { stringify } from 'yaml';
import { rrs } from '../../dns/rr.ts';
import { dig } from '../../../test/support/harness.ts';
import { startFakeUpstream, type FakeUpstream } from '../../../test/support/fake-upstream.ts';
import { startCluster, type ClusterServer } from '../../../test/support/k8s-dns.ts';
import { externalName, ns, svc } from '../../../test/support/k8s-objects.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import type { Cache } from './cache.ts';

const Z = 'cluster.local.';

let up: FakeUpstream;
before(async () => { up = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 300, '192.0.2.7')] } })); });
after(() => up.close());

function cacheOf(srv: ClusterServer): Cache {
  return srv.server.app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'cache') as Cache;
}

function counts(cache: Cache): { hits: number; misses: number; passed: number; requests: number } {
  let hits = 0, misses = 0, passed = 0, requests = 0;
  for (const c of cache.counters()) { hits += c.hitsSuccess + c.hitsDenial; misses += c.misses; passed += c.passed; requests += c.requests; }
  return { hits, misses, passed, requests };
}

/** Rewrites the manifest folder's file and waits for the n-th re-read. */
async function edit(srv: ClusterServer, objects: readonly object[], n: number): Promise<void> {
  await writeFile(join(srv.dir, 'cluster.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  await waitUntil(() => srv.logs.filter((l) => l.includes('manifests: re-read')).length >= n, { timeoutMs: 5000, message: 'no re-read' });
}

describe('cache in front of kubernetes: kept answers pass', () => {
  it('stores none of the plugin\'s answers, counts them as misses that passed, and still stores forwarded ones', async () => {
    const srv = await startCluster([ns('default'), svc('default', 'web', ['10.96.0.1'], [{ name: 'http', port: 80 }])],
      { extra: ['cache 30', `forward . ${up.address}`] });
    try {
      const cache = cacheOf(srv);
      const clock = { t: 1_000_000 };
      cache.now = () => clock.t;
      const web = `web.default.svc.${Z}`;
      for (let i = 0; i < 2; i++) {
        const r = await dig(srv.port, 'A', web);
        assert.deepEqual(r.answer.map((x) => [x.data, x.ttl]), [['10.96.0.1', 5]], 'the plugin\'s TTL, not aged');
        clock.t += 3000;
      }
      const srvName = `_http._tcp.web.default.svc.${Z}`;
      assert.equal((await dig(srv.port, 'SRV', srvName)).answer.length, 1);
      const nx = await dig(srv.port, 'A', `nope.default.svc.${Z}`);
      assert.equal(nx.status, 'NXDOMAIN');
      assert.equal(nx.authority.length, 1, 'NXDOMAIN carries the SOA');
      assert.deepEqual([cache.entries('success'), cache.entries('denial')], [0, 0], 'nothing of the cluster zone stored');
      assert.deepEqual(counts(cache), { hits: 0, misses: 4, passed: 4, requests: 4 });
      // A forwarded answer is dear to get: stored, the second query is a hit.
      await dig(srv.port, 'A', 'ext.example.');
      await dig(srv.port, 'A', 'ext.example.');
      assert.equal(up.count('ext.example.'), 1);
      assert.equal(cache.entries('success'), 1);
      assert.deepEqual(counts(cache), { hits: 1, misses: 5, passed: 4, requests: 6 });
    } finally {
      await srv.stop();
    }
  });

  it('an edited service answers at once, though the cache\'s clock stands still', async () => {
    const srv = await startCluster([ns('default'), svc('default', 'web', ['10.96.0.1'])], { extra: ['cache 30'] });
    try {
      cacheOf(srv).now = () => 1_000_000;
      const web = `web.default.svc.${Z}`;
      assert.deepEqual((await dig(srv.port, 'A', web)).answer.map((x) => x.data), ['10.96.0.1']);
      assert.equal((await dig(srv.port, 'A', `api.default.svc.${Z}`)).status, 'NXDOMAIN');
      await edit(srv, [ns('default'), svc('default', 'web', ['10.96.0.2']), svc('default', 'api', ['10.96.0.3'])], 1);
      assert.deepEqual((await dig(srv.port, 'A', web)).answer.map((x) => x.data), ['10.96.0.2']);
      assert.deepEqual((await dig(srv.port, 'A', `api.default.svc.${Z}`)).answer.map((x) => x.data), ['10.96.0.3'], 'no cached NXDOMAIN');
    } finally {
      await srv.stop();
    }
  });

  it('an entry stored before the answer was kept is dropped when a refresh brings the kept answer', async () => {
    // ExternalName answers follow the CNAME for each query (not kept), so the cache stores them.
    const srv = await startCluster([ns('default'), svc('default', 'web', ['10.96.0.1']), externalName('default', 'alias', `web.default.svc.${Z}`)],
      { extra: ['cache 30 {\n    serve_stale\n  }'] });
    try {
      const cache = cacheOf(srv);
      const clock = { t: 1_000_000 };
      cache.now = () => clock.t;
      const alias = `alias.default.svc.${Z}`;
      const first = await dig(srv.port, 'A', alias);
      assert.deepEqual(first.answer.map((x) => x.type), ['CNAME', 'A']);
      assert.equal(cache.entries('success'), 1, 'the followed CNAME is stored');
      await edit(srv, [ns('default'), svc('default', 'web', ['10.96.0.1']), svc('default', 'alias', ['10.96.0.9'])], 1);
      clock.t += 6000; // past the entry's TTL (5 s), inside serve_stale's hour
      const stale = await dig(srv.port, 'A', alias);
      assert.deepEqual(stale.answer.map((x) => [x.type, x.ttl]), [['CNAME', 0], ['A', 0]], 'served stale once while refreshed');
      await waitUntil(() => cache.entries('success') === 0, { timeoutMs: 5000, message: 'the stale entry was not dropped' });
      assert.deepEqual((await dig(srv.port, 'A', alias)).answer.map((x) => [x.type, x.data]), [['A', '10.96.0.9']]);
      assert.equal(cache.entries('success'), 0);
    } finally {
      await srv.stop();
    }
  });

  it('looks nothing up for names the plugin keeps, until it holds one of the plugin\'s answers that are not kept', async () => {
    const srv = await startCluster([ns('default'), svc('default', 'web', ['10.96.0.1']), externalName('default', 'out', 'target.example')],
      { extra: ['cache 30', `forward . ${up.address}`] });
    try {
      const cache = cacheOf(srv);
      const lookups = mock.method(cache.store, 'find');
      await dig(srv.port, 'A', `web.default.svc.${Z}`);
      assert.equal((await dig(srv.port, 'A', `nope.default.svc.${Z}`)).status, 'NXDOMAIN');
      await dig(srv.port, 'PTR', '1.0.96.10.in-addr.arpa.');
      assert.equal(lookups.mock.callCount(), 0, 'no store lookup for the kubernetes zones');
      assert.deepEqual(counts(cache), { hits: 0, misses: 3, passed: 3, requests: 3 });
      await dig(srv.port, 'A', 'other.example.');
      assert.ok(lookups.mock.callCount() > 0, 'a forwarded name is looked up');
      // An ExternalName answer is built per query (not kept): stored, and found again by a lookup.
      const out = `out.default.svc.${Z}`;
      assert.deepEqual((await dig(srv.port, 'A', out)).answer.map((x) => x.type), ['CNAME', 'A']);
      await dig(srv.port, 'A', out);
      assert.equal(up.count('target.example.'), 1, 'the second ExternalName query is a hit');
      const before = lookups.mock.callCount();
      await dig(srv.port, 'A', `web.default.svc.${Z}`);
      assert.ok(lookups.mock.callCount() > before, 'while such an entry is stored, cluster names are looked up again');
    } finally {
      mock.restoreAll();
      await srv.stop();
    }
  });

  it('looks names up as before where the plugin may fall through', async () => {
    const srv = await startCluster([ns('default'), svc('default', 'web', ['10.96.0.1'])],
      { extra: ['cache 30', `forward . ${up.address}`], options: ['fallthrough in-addr.arpa ip6.arpa'] });
    try {
      const cache = cacheOf(srv);
      const lookups = mock.method(cache.store, 'find');
      await dig(srv.port, 'A', `web.default.svc.${Z}`);
      assert.equal(lookups.mock.callCount(), 0, 'cluster.local has no fallthrough: skipped');
      await dig(srv.port, 'PTR', '9.9.9.10.in-addr.arpa.');
      await dig(srv.port, 'PTR', '9.9.9.10.in-addr.arpa.');
      assert.ok(lookups.mock.callCount() > 0, 'in-addr.arpa falls through: looked up');
      assert.equal(up.count('9.9.9.10.in-addr.arpa.'), 1, 'the fallen-through answer is stored and hit');
    } finally {
      mock.restoreAll();
      await srv.stop();
    }
  });
});

/**
 * @module test/server/request-reuse.test
 * The server reuses the request object of a query answered at once for the
 * next query (server/serve.ts). A request a plugin still reads after its
 * answer went out must not be reused: the cache's prefetch answers from its
 * entry at once and refreshes it from the upstream in the background; the
 * query served meanwhile must not become the refresh's question (else the
 * refreshed answer would be stored under the other name, the other's never). Both queries go
 * through the full chain in process (harness inject), one right after the
 * other in the same turn, so the refresh's upstream reply can only come
 * after the second query; the upstream is a real UDP server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bytesToIp } from '../../src/dns/ip.ts';
import { rrs } from '../../src/dns/rr.ts';
import type { Cache } from '../../src/plugins/cache/cache.ts';
import { inject, startServer, type TestServer } from '../support/harness.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { waitUntil } from '../support/wait-until.ts';

/** Each name's own address, so an answer stored under the wrong name shows. */
const ADDRESS: Record<string, string> = { 'x.example.': '192.0.2.1', 'y.example.': '192.0.2.2' };

describe('request reuse', () => {
  let up: FakeUpstream;
  let srv: TestServer;
  before(async () => {
    up = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 300, ADDRESS[q.name] ?? '192.0.2.9')] } }));
    srv = await startServer(`.:0 {\n  bind 127.0.0.1\n  cache 30 {\n    prefetch 1 1m 90%\n  }\n  forward . ${up.address}\n}\n`);
  });
  after(async () => {
    await srv.stop();
    await up.close();
  });

  it('a request held by a background refresh keeps its question while later queries are served', async () => {
    const cache = srv.app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'cache') as Cache;
    const clock = { t: 1_000_000 };
    cache.now = () => clock.t;
    const address = async (name: string): Promise<string[]> => (await inject(srv.app, name, 'A')).answer.map((r) => bytesToIp(r.data));
    assert.deepEqual(await address('x.example.'), ['192.0.2.1']);
    assert.deepEqual(await address('y.example.'), ['192.0.2.2']);
    assert.equal(up.count('x.example.'), 1);
    // 10 s on, 20 of 30 s left: within prefetch's 90 %, so each next hit is answered at once and refreshed behind.
    clock.t += 10_000;
    const x = inject(srv.app, 'x.example.', 'A');
    const y = inject(srv.app, 'y.example.', 'A');
    assert.deepEqual((await x).answer.map((r) => bytesToIp(r.data)), ['192.0.2.1']);
    assert.deepEqual((await y).answer.map((r) => bytesToIp(r.data)), ['192.0.2.2']);
    const refreshed = (name: string) => (): boolean => cache.store.get(name, 1, 1, 0)?.storedMs === clock.t;
    await waitUntil(refreshed('x.example.'), { timeoutMs: 5000, message: 'the refresh of x was not stored under x' });
    await waitUntil(refreshed('y.example.'), { timeoutMs: 5000, message: 'the refresh of y was not stored under y' });
    assert.deepEqual([up.count('x.example.'), up.count('y.example.')], [2, 2], 'each refreshed once');
    assert.deepEqual(await address('x.example.'), ['192.0.2.1'], 'x still answers its own address');
    assert.deepEqual(await address('y.example.'), ['192.0.2.2'], 'y still answers its own address');
  });
});

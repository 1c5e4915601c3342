/**
 * @module plugins/forward/tcp-pool.test
 * The pooled TCP connections' read deadlines against a real black-holed TCP
 * upstream on 127.0.0.1, on a mocked clock: every query's deadline is an
 * entry in the forward's one DeadlineQueue (no timer per query), none fires
 * early, and a backlog due together expires in slices of EXPIRE_SLICE, each
 * query rejected with ETIMEDOUT; an answer cancels its deadline.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { Type } from '../../dns/constants.ts';
import { encodeQuery } from '../../dns/message.ts';
import { rrs } from '../../dns/rr.ts';
import { startFakeUpstream } from '../../../test/support/fake-upstream.ts';
import { ioUntil } from '../../../test/support/wait-until.ts';
import { deadlineClock, DeadlineQueue, EXPIRE_SLICE } from './deadlines.ts';
import { TcpPool } from './tcp-pool.ts';
import type { UpstreamError, UpstreamQuery } from './wire.ts';

function mocked(t: { after: (fn: () => void) => void }): void {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1000 });
  const real = deadlineClock.now;
  deadlineClock.now = () => Date.now();
  t.after(() => { mock.timers.reset(); deadlineClock.now = real; });
}

function query(name: string, id: number): UpstreamQuery {
  const bytes = encodeQuery(name, Type.A, { id });
  return { bytes, questionEnd: bytes.length };
}

test('TCP read deadlines live in the one queue: a black hole\'s backlog expires in slices, each query ETIMEDOUT', async (t) => {
  const hole = await startFakeUpstream(() => ({}));
  const pool = new TcpPool({ host: '127.0.0.1', port: hole.port, label: hole.address, tls: null }, 60_000, null, new DeadlineQueue());
  try {
    mocked(t);
    const n = 300;
    const outcomes: string[] = [];
    for (let i = 0; i < n; i++) {
      pool.exchange(query(`q${i}.example.org`, i + 1), 2000).then(
        () => outcomes.push('answer'),
        (e: UpstreamError) => outcomes.push(e.code),
      );
    }
    assert.ok(await ioUntil(() => hole.queries.length === n), `the black hole got every query (${hole.queries.length})`);
    assert.equal(pool.deadlines.size, n, 'one queue entry per query in flight');
    mock.timers.tick(1999);
    assert.ok(await ioUntil(() => true));
    assert.equal(outcomes.length, 0, 'no query gave up before its read timeout');
    assert.equal(pool.deadlines.expired, 0);
    mock.timers.tick(1);
    assert.equal(pool.deadlines.expired, EXPIRE_SLICE, 'the timer ran one bounded slice, the rest wait for the next turn');
    assert.ok(await ioUntil(() => outcomes.length === n), `every query settled (${outcomes.length})`);
    assert.deepEqual(new Set(outcomes), new Set(['ETIMEDOUT']));
    assert.equal(pool.deadlines.expired, n);
    assert.equal(pool.deadlines.size, 0);
  } finally { pool.destroy(); await hole.close(); }
});

test('an answered TCP query takes its deadline out of the queue', async (t) => {
  const up = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '192.0.2.9')] } }));
  const pool = new TcpPool({ host: '127.0.0.1', port: up.port, label: up.address, tls: null }, 60_000, null, new DeadlineQueue());
  try {
    mocked(t);
    const replies = await Promise.all([1, 2, 3].map((i) => pool.exchange(query(`a${i}.example.org`, i), 2000)));
    assert.equal(replies.length, 3);
    assert.equal(pool.deadlines.size, 0, 'answered: no deadline left');
    mock.timers.tick(5000);
    assert.equal(pool.deadlines.expired, 0, 'nothing expired for answered queries');
  } finally { pool.destroy(); await up.close(); }
});

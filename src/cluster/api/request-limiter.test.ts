/**
 * @module cluster/api/request-limiter.test
 * The token bucket and the in-flight cap on their own: burst then spacing,
 * slots handed to waiters in order, aborts that give back what they held,
 * and the defaults (no limiter without limits, client-go's burst of 10).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BURST, RequestLimiter } from './request-limiter.ts';

test('no limits, no limiter; a QPS without a burst gets client-go\'s default burst', () => {
  assert.equal(RequestLimiter.from({ qps: 0, burst: 0, maxInflight: 0 }), null);
  assert.equal(RequestLimiter.from({ qps: 0, burst: 50, maxInflight: 0 }), null, 'a burst alone limits nothing');
  assert.equal(RequestLimiter.from({ qps: 3, burst: 0, maxInflight: 0 })?.burst, DEFAULT_BURST);
  assert.equal(RequestLimiter.from({ qps: 3, burst: 4, maxInflight: 0 })?.burst, 4);
  assert.equal(RequestLimiter.from({ qps: 0, burst: 0, maxInflight: 2 })?.maxInflight, 2);
  assert.throws(() => new RequestLimiter({ qps: -1, burst: 0, maxInflight: 0 }), RangeError);
});

test('token bucket: BURST requests at once, then one per 1/QPS', async () => {
  const limiter = new RequestLimiter({ qps: 40, burst: 3, maxInflight: 0 });
  const signal = new AbortController().signal;
  const start = Date.now();
  const waits: number[] = [];
  for (let i = 0; i < 7; i++) waits.push(await limiter.acquire(signal));
  const elapsed = Date.now() - start;
  assert.ok(waits.slice(0, 3).every((w) => w < 15), `burst waited ${waits.slice(0, 3).join(',')} ms`);
  // 4 requests beyond the burst at 40/s need at least 100 ms (timer granularity: allow 1 ms each).
  assert.ok(elapsed >= 96, `7 requests in ${elapsed} ms`);
  assert.ok(waits.slice(3).every((w) => w >= 10), `spaced waits ${waits.slice(3).join(',')} ms`);
});

test('in-flight cap: waiters get freed slots in order; peak never above the cap', async () => {
  const limiter = new RequestLimiter({ qps: 0, burst: 0, maxInflight: 2 });
  const signal = new AbortController().signal;
  await limiter.acquire(signal);
  await limiter.acquire(signal);
  const order: number[] = [];
  const third = limiter.acquire(signal).then(() => { order.push(3); });
  const fourth = limiter.acquire(signal).then(() => { order.push(4); });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, [], 'both wait while two are in flight');
  limiter.release();
  await third;
  assert.deepEqual(order, [3]);
  limiter.release();
  await fourth;
  assert.deepEqual(order, [3, 4]);
  assert.equal(limiter.inflight, 2);
  limiter.release();
  limiter.release();
  assert.equal(limiter.inflight, 0);
  assert.equal(limiter.peakInflight, 2);
});

test('an aborted wait holds nothing: no slot taken, its token given back', async () => {
  const slots = new RequestLimiter({ qps: 0, burst: 0, maxInflight: 1 });
  const live = new AbortController().signal;
  await slots.acquire(live);
  const ac = new AbortController();
  const waiting = slots.acquire(ac.signal);
  ac.abort(new Error('stopped'));
  await assert.rejects(waiting, /stopped/);
  slots.release();
  assert.equal(slots.inflight, 0, 'the aborted waiter did not inherit the slot');
  await slots.acquire(live);
  assert.equal(slots.inflight, 1);

  const tokens = new RequestLimiter({ qps: 1, burst: 1, maxInflight: 0 });
  await tokens.acquire(live); // the one token
  const ac2 = new AbortController();
  const queued = tokens.acquire(ac2.signal); // would wait ~1 s
  ac2.abort(new Error('stopped'));
  await assert.rejects(queued, /stopped/);
  // The reservation was returned: the next request waits about one interval, not two.
  const t = Date.now();
  const waited = await tokens.acquire(live);
  assert.ok(waited <= 1100 && Date.now() - t <= 1100, `waited ${waited} ms`);
  await assert.rejects(tokens.acquire(AbortSignal.abort(new Error('already'))), /already/);
});

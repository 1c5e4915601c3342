/**
 * @module cluster/api/request-limiter.test
 * The token bucket and the in-flight cap on their own: burst then spacing,
 * slots handed to waiters in order, aborts that give back what they held,
 * a wall clock stepped back, and the defaults (no limiter without limits,
 * client-go's burst of 10).
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BURST, RequestLimiter } from './request-limiter.ts';

/** Lets every resolved promise run (setImmediate is not mocked: it comes after all microtasks). */
const flush = (): Promise<void> => new Promise((r) => { setImmediate(r); });

/** A promise's state after the microtasks queued so far have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; }, () => { done = true; });
  await flush();
  return done;
}

/** A limiter on a mocked clock: setTimeout and Date advance only by mock.timers.tick. */
function mockedLimiter(t: { after: (fn: () => void) => void }, limits: ConstructorParameters<typeof RequestLimiter>[0]): RequestLimiter {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => { mock.timers.reset(); });
  return new RequestLimiter(limits, () => Date.now());
}

test('no limits, no limiter; a QPS without a burst gets client-go\'s default burst', () => {
  assert.equal(RequestLimiter.from({ qps: 0, burst: 0, maxInflight: 0 }), null);
  assert.equal(RequestLimiter.from({ qps: 0, burst: 50, maxInflight: 0 }), null, 'a burst alone limits nothing');
  assert.equal(RequestLimiter.from({ qps: 3, burst: 0, maxInflight: 0 })?.burst, DEFAULT_BURST);
  assert.equal(RequestLimiter.from({ qps: 3, burst: 4, maxInflight: 0 })?.burst, 4);
  assert.equal(RequestLimiter.from({ qps: 0, burst: 0, maxInflight: 2 })?.maxInflight, 2);
  assert.throws(() => new RequestLimiter({ qps: -1, burst: 0, maxInflight: 0 }), RangeError);
});

test('token bucket: BURST requests at once, then one per 1/QPS', async (t) => {
  const limiter = mockedLimiter(t, { qps: 40, burst: 3, maxInflight: 0 });
  const signal = new AbortController().signal;
  for (let i = 0; i < 3; i++) assert.equal(await limiter.acquire(signal), 0, `burst request ${i} waits for nothing`);
  // Beyond the burst, at 40/s, each request waits 25 ms more than the one before.
  const waits: Promise<number>[] = [];
  for (let i = 0; i < 4; i++) waits.push(limiter.acquire(signal));
  for (let i = 0; i < 4; i++) {
    mock.timers.tick(24);
    assert.equal(await settled(waits[i]!), false, `request ${i + 4} still waits 1 ms before its token`);
    mock.timers.tick(1);
    assert.equal(await waits[i]!, 25 * (i + 1), `request ${i + 4} got its token at ${25 * (i + 1)} ms`);
  }
});

test('a wall clock stepped back adds no debt: the next request waits 1/QPS, not the step', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => { mock.timers.reset(); });
  let wall = 1_000_000;
  const limiter = new RequestLimiter({ qps: 10, burst: 1, maxInflight: 0 }, () => wall);
  const signal = new AbortController().signal;
  assert.equal(await limiter.acquire(signal), 0, 'the one burst token');
  wall -= 60_000; // NTP steps the clock back a minute
  const next = limiter.acquire(signal);
  mock.timers.tick(99);
  assert.equal(await settled(next), false, 'waits for its token');
  mock.timers.tick(1);
  assert.equal(await settled(next), true, 'its token came after 100 ms, as without the step');
});

test('in-flight cap: waiters get freed slots in order; peak never above the cap', async () => {
  const limiter = new RequestLimiter({ qps: 0, burst: 0, maxInflight: 2 });
  const signal = new AbortController().signal;
  await limiter.acquire(signal);
  await limiter.acquire(signal);
  const order: number[] = [];
  const third = limiter.acquire(signal).then(() => { order.push(3); });
  const fourth = limiter.acquire(signal).then(() => { order.push(4); });
  // Slots are freed only by release(): once every pending promise has run, both still wait.
  await flush();
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

test('an aborted wait holds nothing: no slot taken, its token given back', async (t) => {
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

  const tokens = mockedLimiter(t, { qps: 1, burst: 1, maxInflight: 0 });
  await tokens.acquire(live); // the one token
  const ac2 = new AbortController();
  const queued = tokens.acquire(ac2.signal); // would wait 1 s
  ac2.abort(new Error('stopped'));
  await assert.rejects(queued, /stopped/);
  // The reservation was returned: the next request waits one interval, not two.
  const next = tokens.acquire(live);
  mock.timers.tick(999);
  assert.equal(await settled(next), false);
  mock.timers.tick(1);
  assert.equal(await next, 1000);
  await assert.rejects(tokens.acquire(AbortSignal.abort(new Error('already'))), /already/);
});

/**
 * @module plugins/forward/deadlines.test
 * The one-timer deadline queue on a mocked clock: deadlines expire in order
 * and not before their time, cancelled ones never, a backlog expires in
 * slices of EXPIRE_SLICE with I/O (a setImmediate) let in between, and the
 * whole queue holds one timer however many deadlines it has.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { deadlineClock, DeadlineQueue, EXPIRE_SLICE } from './deadlines.ts';

function mocked(t: { after: (fn: () => void) => void }): void {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1000 });
  const real = deadlineClock.now;
  deadlineClock.now = () => Date.now();
  t.after(() => { mock.timers.reset(); deadlineClock.now = real; });
}
const turn = (): Promise<void> => new Promise((r) => { setImmediate(r); });

test('deadlines expire in order, not before their time; cancelled ones never', (t) => {
  mocked(t);
  const q = new DeadlineQueue();
  const fired: string[] = [];
  q.add(300, () => fired.push('c'));
  const b = q.add(200, () => fired.push('b'));
  q.add(100, () => fired.push('a'));
  q.add(100, () => fired.push('a2'));
  q.cancel(b);
  q.cancel(b); // twice is harmless
  mock.timers.tick(99);
  assert.deepEqual(fired, []);
  mock.timers.tick(1);
  assert.deepEqual(fired.sort(), ['a', 'a2']);
  mock.timers.tick(150);
  assert.deepEqual(fired.length, 2, 'the cancelled 200 ms deadline did not fire');
  mock.timers.tick(50);
  assert.deepEqual(fired.slice(2), ['c']);
  assert.equal(q.size, 0);
  assert.equal(q.expired, 3);
});

test('a new earlier deadline re-arms the one timer; a later one does not delay the earlier', (t) => {
  mocked(t);
  const q = new DeadlineQueue();
  const fired: number[] = [];
  q.add(1000, () => fired.push(1000));
  q.add(10, () => fired.push(10));
  q.add(500, () => fired.push(500));
  mock.timers.tick(10);
  assert.deepEqual(fired, [10]);
  mock.timers.tick(990);
  assert.deepEqual(fired, [10, 500, 1000]);
});

test(`a backlog of 1000 deadlines due together expires in slices of ${EXPIRE_SLICE}, I/O let in between`, async (t) => {
  mocked(t);
  const q = new DeadlineQueue();
  let fired = 0;
  for (let i = 0; i < 1000; i++) q.add(2000, () => { fired++; });
  mock.timers.tick(2000);
  assert.equal(fired, EXPIRE_SLICE, 'one slice in the timer callback');
  const slices = Math.ceil(1000 / EXPIRE_SLICE);
  for (let s = 2; s <= slices; s++) {
    await turn();
    assert.equal(fired, Math.min(1000, s * EXPIRE_SLICE), `slice ${s} after one more event-loop turn`);
  }
  assert.equal(q.size, 0);
});

test('cancelling while a slice is running is safe, and clear() drops everything uncalled', async (t) => {
  mocked(t);
  const q = new DeadlineQueue();
  const entries = Array.from({ length: 300 }, () => q.add(50, () => { fired++; }));
  let fired = 0;
  mock.timers.tick(50);
  assert.equal(fired, EXPIRE_SLICE);
  const pending = entries.filter((e) => e.slot >= 0);
  assert.equal(pending.length, 300 - EXPIRE_SLICE);
  for (const e of pending.slice(0, 100)) q.cancel(e);
  await turn();
  await turn();
  assert.equal(fired, 200, 'the 100 cancelled after the first slice never fired');
  q.add(10, () => { fired++; });
  q.clear();
  mock.timers.tick(100);
  assert.equal(fired, 200);
  assert.equal(q.size, 0);
});

test('expireAll() calls every pending deadline at once (shutdown)', (t) => {
  mocked(t);
  const q = new DeadlineQueue();
  let fired = 0;
  for (let i = 0; i < 300; i++) q.add(60_000, () => { fired++; });
  q.expireAll();
  assert.equal(fired, 300);
  assert.equal(q.size, 0);
  mock.timers.tick(60_000);
  assert.equal(fired, 300, 'nothing fires twice');
});

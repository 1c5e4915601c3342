/**
 * @module util/serial-rounds.test
 * Rounds never overlap, calls during a round cost exactly one more round,
 * `again()` from inside a round repeats it, and `stopped` ends the repeats.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialRounds } from './serial-rounds.ts';

/** A round that stays open until the test releases it, counting starts and overlaps. */
function gatedRounds(stopped?: () => boolean) {
  const state = { started: 0, active: 0, overlaps: 0, release: (): void => {} };
  const rounds = new SerialRounds(async () => {
    state.started++;
    if (++state.active > 1) state.overlaps++;
    await new Promise<void>((r) => { state.release = r; });
    state.active--;
  }, stopped);
  return { rounds, state };
}

test('calls during a round share it and add exactly one more round', async () => {
  const { rounds, state } = gatedRounds();
  const first = rounds.run();
  const during = [rounds.run(), rounds.run(), rounds.run()];
  assert.ok(during.every((p) => p === first), 'the running round is returned');
  assert.equal(state.started, 1);
  state.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(state.started, 2, 'one more round for the three calls');
  state.release();
  await first;
  assert.equal(state.started, 2);
  assert.equal(state.overlaps, 0);
  assert.equal(rounds.running, null);
});

test('again() from inside a round repeats it; stopped() ends the repeats', async () => {
  let stopped = false;
  let n = 0;
  const rounds = new SerialRounds(async () => { n++; if (n < 3) rounds.again(); }, () => stopped);
  await rounds.run();
  assert.equal(n, 3);
  const { rounds: gated, state } = gatedRounds(() => stopped);
  const p = gated.run();
  gated.run();
  stopped = true;
  state.release();
  await p;
  assert.equal(state.started, 1, 'no round after stop');
});

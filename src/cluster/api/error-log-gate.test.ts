/**
 * @module cluster/api/error-log-gate.test
 * One error line per period: the first failure goes out, the ones within
 * the period are held back and counted, the next line after the period
 * carries that count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorLogGate } from './error-log-gate.ts';

test('admits one failure per interval and reports how many were held back', () => {
  const gate = new ErrorLogGate(1000);
  const at = (ms: number): number | null => gate.admit(ms);
  assert.deepEqual([at(0), at(10), at(500), at(999), at(1000), at(1500), at(2000), at(2500), at(3100)], [0, null, null, null, 3, null, 1, null, 1]);
  const zero = new ErrorLogGate(0);
  assert.deepEqual([zero.admit(1), zero.admit(1), zero.admit(1)], [0, 0, 0], 'interval 0: every failure is logged');
});

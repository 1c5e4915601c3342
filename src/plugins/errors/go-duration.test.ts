/**
 * @module plugins/errors/go-duration.test
 * formatGoDuration prints what Go's time.Duration.String() prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration } from './go-duration.ts';

const cases: [ms: number, go: string][] = [
  [0, '0s'], [0.000001, '1ns'], [0.0005, '500ns'], [0.0015, '1.5µs'], [0.25, '250µs'], [1, '1ms'], [1.5, '1.5ms'],
  [20, '20ms'], [999, '999ms'], [1000, '1s'], [1500, '1.5s'], [30_000, '30s'], [59_999, '59.999s'], [60_000, '1m0s'],
  [90_000, '1m30s'], [300_000, '5m0s'], [3_600_000, '1h0m0s'], [3_661_500, '1h1m1.5s'], [86_400_000, '24h0m0s'], [-1500, '-1.5s'],
];
for (const [ms, go] of cases) {
  test(`${ms} ms -> ${go}`, () => {
    assert.equal(formatGoDuration(ms), go);
  });
}

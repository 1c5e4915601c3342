/**
 * @module test/ops/bench-loop-gc.test
 * What the benchmark reports next to each fixed-rate latency row: the
 * server's event-loop delay and GC pauses over the run, read from a real
 * /metrics before and after (bench/metrics-scrape.ts) and rendered as one
 * cell (bench/report.ts); a server without those figures gets "–".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loopAndGc, loopAndGcBetween, parseLoopAndGc } from '../../bench/metrics-scrape.ts';
import { loopCell } from '../../bench/report.ts';
import { startServer } from '../support/harness.ts';
import { delay } from '../support/wait-until.ts';
import { deadPort } from '../support/ports.ts';
import { UdpClient } from '../support/udp-client.ts';
import { Rcode, Type } from '../../src/dns/constants.ts';
import { processLoopDelay } from '../../src/server/loop-delay.ts';

/** A full GC now (the flag exposes gc() to contexts made after it). */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

test('a stall and a GC during a run show in the loop-delay and GC figures of that run', async () => {
  const srv = await startServer('.:0 {\n bind 127.0.0.1\n prometheus 127.0.0.1:0\n whoami\n}\n');
  try {
    const url = `http://127.0.0.1:${srv.app.services.http.port('127.0.0.1:0')!}/metrics`;
    // A query first: the delay timer runs at its fine cadence only while packets arrive (server/loop-delay.ts).
    const client = await UdpClient.open(srv.port);
    try {
      assert.equal((await client.query('whoami.example.', Type.A)).rcode, Rcode.NOERROR);
    } finally {
      await client.close();
    }
    const loop = processLoopDelay();
    const ticks = (): number => loop.counts.reduce((a, b) => a + b, 0);
    const seen = ticks();
    // Two ticks since the query: the first that saw it re-armed the timer at the fine cadence (within 1 s, bounded here).
    for (let i = 0; i < 300 && ticks() < seen + 2; i++) await delay(10);
    assert.ok(ticks() >= seen + 2, 'the timer ticked');
    const before = await loopAndGc(url);
    assert.ok(before !== null, 'clusterdns_event_loop_delay_seconds is on /metrics');
    fullGc();
    const until = performance.now() + 60;
    while (performance.now() < until) { /* the loop is blocked for 60 ms: the next tick is at least 50 ms late */ }
    // The GC observer reports asynchronously and the late tick runs after this: read until both show (bounded).
    let d = loopAndGcBetween(before, await loopAndGc(url));
    for (let i = 0; i < 100 && !(d !== null && d.gcCount >= 1 && d.loopMaxMs >= 50); i++) {
      await delay(50);
      d = loopAndGcBetween(before, await loopAndGc(url));
    }
    assert.ok(d !== null && d.gcCount >= 1 && d.loopMaxMs >= 50, `the figures moved: ${JSON.stringify(d)}`);
    assert.ok(d.gcTotalMs > 0);
    const cell = loopCell(d);
    assert.match(cell, /^[\d.]+ \/ [\d.]+ \/ [\d.>]+ ms · \d+ GC, [\d.]+ ms$/);
  } finally {
    await srv.stop();
  }
});

test('a server without the figures (no loop-delay histogram on /metrics, or none answering) gets –', async () => {
  assert.equal(await loopAndGc(`http://127.0.0.1:${await deadPort()}/metrics`), null, 'nothing listens there');
  const other = parseLoopAndGc('# a peer with other metrics\nprocess_cpu_seconds_total 1\n');
  assert.equal(other, null, 'no clusterdns_event_loop_delay_seconds');
  assert.equal(loopAndGcBetween(null, null), null);
  assert.equal(loopCell(undefined), '–');
});

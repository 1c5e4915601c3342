/**
 * @module server/loop-delay.test
 * The event-loop delay histogram: a timer due every INTERVAL_MS (every
 * IDLE_INTERVAL_MS once no packet arrived for IDLE_AFTER_MS) records how late it ran
 * (mocked timers and an injected clock, so a "stall" is made, not waited
 * for); it runs only while someone uses it; a serving server counts its
 * packets for it and exposes it on /metrics as a cumulative histogram.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { IDLE_AFTER_MS, IDLE_INTERVAL_MS, INTERVAL_MS, LOOP_DELAY_BUCKETS, LoopDelayHistogram, processLoopDelay } from './loop-delay.ts';
import { samples, scrape } from '../../test/ops/ops-support.ts';
import { startServer } from '../../test/support/harness.ts';
import { eventually } from '../../test/server/helpers/server.ts';
import { UdpClient } from '../../test/support/udp-client.ts';
import { Rcode, Type } from '../dns/constants.ts';
import { packetCount } from './serve.ts';

test('each tick records how late it ran, in the right bucket; nothing runs once released', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let now = 1000;
    let packets = 0;
    const h = new LoopDelayHistogram(() => now, () => ++packets); // a packet before every tick: serving
    h.acquire();
    now += INTERVAL_MS;
    mock.timers.tick(INTERVAL_MS); // on time
    now += INTERVAL_MS + 3; // the loop was busy for 3 ms more
    mock.timers.tick(INTERVAL_MS);
    const total = h.counts.reduce((a, b) => a + b, 0);
    assert.equal(total, 2);
    assert.equal(h.counts[0], 1, 'on time: the first bucket');
    assert.equal(h.counts[LOOP_DELAY_BUCKETS.indexOf(0.005)], 1, '3 ms late: the (2 ms, 5 ms] bucket');
    assert.equal(h.max, 0.003);
    h.release();
    mock.timers.tick(10 * INTERVAL_MS);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 2, 'released: no more samples');
  } finally {
    mock.timers.reset();
  }
});

test('after IDLE_AFTER_MS without a packet the timer is due every IDLE_INTERVAL_MS; the first tick that sees one brings back INTERVAL_MS', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let now = 0;
    let packets = 7;
    const h = new LoopDelayHistogram(() => now, () => packets);
    const samples = (): number => h.counts.reduce((a, b) => a + b, 0);
    const advance = (ms: number): void => { now += ms; mock.timers.tick(ms); };
    h.acquire();
    const fine = IDLE_AFTER_MS / INTERVAL_MS;
    for (let i = 0; i < fine; i++) advance(INTERVAL_MS);
    assert.equal(samples(), fine, 'the first IDLE_AFTER_MS (from the start) at the serving cadence');
    advance(IDLE_INTERVAL_MS - 1);
    assert.equal(samples(), fine, 'then, with no packet all that time, nothing due before IDLE_INTERVAL_MS');
    advance(1);
    assert.equal(samples(), fine + 1, 'due at IDLE_INTERVAL_MS');
    assert.equal(h.max, 0, 'and every tick ran on time');
    packets++;
    advance(IDLE_INTERVAL_MS);
    assert.equal(samples(), fine + 2, 'the idle tick that sees a packet...');
    advance(INTERVAL_MS);
    assert.equal(samples(), fine + 3, '...arms the next at INTERVAL_MS');
    for (let i = 0; i < fine - 2; i++) advance(INTERVAL_MS);
    assert.equal(samples(), 2 * fine + 1, 'a lull shorter than IDLE_AFTER_MS keeps the serving cadence');
    advance(INTERVAL_MS);
    advance(IDLE_INTERVAL_MS - 1);
    assert.equal(samples(), 2 * fine + 2, 'IDLE_AFTER_MS after that packet: idle again');
    advance(1);
    assert.equal(samples(), 2 * fine + 3);
    h.release();
  } finally {
    mock.timers.reset();
  }
});

test('a serving server exposes clusterdns_event_loop_delay_seconds as a histogram on /metrics', async () => {
  const srv = await startServer('.:0 {\n bind 127.0.0.1\n prometheus 127.0.0.1:0\n whoami\n}\n');
  try {
    const d = processLoopDelay();
    const before = d.counts.reduce((a, b) => a + b, 0);
    assert.ok(await eventually(() => d.counts.reduce((a, b) => a + b, 0) > before, 5000), 'the timer ran');
    const m = await scrape(srv.app.services.http.port('127.0.0.1:0')!);
    const [h] = samples(m, 'clusterdns_event_loop_delay_seconds');
    assert.ok(h !== undefined && (h.count ?? 0) > 0, 'the histogram has samples');
    assert.equal(Object.keys(h.buckets ?? {}).length, LOOP_DELAY_BUCKETS.length + 1);
    // What tells the timer that the server is busy: every packet the server takes in counts.
    const client = await UdpClient.open(srv.port);
    try {
      const seen = packetCount();
      const reply = await client.query('whoami.example.', Type.A);
      assert.equal(reply.rcode, Rcode.NOERROR);
      assert.equal(packetCount(), seen + 1, 'the query was counted');
    } finally {
      await client.close();
    }
  } finally {
    await srv.stop();
  }
});

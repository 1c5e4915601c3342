/**
 * @module test/ops/bench-latency.test
 * How the benchmark turns a fixed-rate run into p50/p99/p99.9: a real
 * `dnsperf -v` run against a real server gives one latency per answered
 * query (bench/latency.ts); of several runs the one with the median p99 is
 * kept whole; the real-time prefix for the latency runs (bench/peers/process.ts).
 * No timing is asserted: counts, order and shape only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureLatency, medianByP99, parseVerboseLatencies } from '../../bench/latency.ts';
import { realtimeArgs } from '../../bench/peers/process.ts';
import { startServer } from '../support/harness.ts';

test('a real dnsperf -v run gives one latency per answered query, in order, and removes its per-query file', async () => {
  const srv = await startServer('.:0 {\n bind 127.0.0.1\n whoami\n}\n');
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-latency-'));
  try {
    const file = path.join(dir, 'queries.txt');
    writeFileSync(file, 'a.example. A\nb.example. AAAA\nc.example. TXT\n');
    const outFile = path.join(dir, 'out.txt');
    const r = await measureLatency({ port: srv.port, file, rateQps: 200, durationS: 1, clients: 1, outstanding: 10, outFile, cpu: null });
    assert.ok(r.completed > 0, 'the server answered');
    assert.equal(r.samples, r.completed, 'every answered query has its -v line parsed');
    assert.ok(r.p50Us <= r.p99Us && r.p99Us <= r.p999Us && r.p999Us <= r.maxUs, `percentiles in order: ${JSON.stringify(r)}`);
    assert.ok(r.p50Us > 0);
    assert.equal(existsSync(outFile), false, 'the line-per-query file is not left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await srv.stop();
  }
});

test('only the "> RCODE name type seconds" lines of dnsperf -v are latencies, in µs, sorted', () => {
  const text = [
    'DNS Performance Testing Tool', '[Status] Sending queries (to 127.0.0.1:5300)',
    '> NOERROR a.example. A 0.000250', '> NXDOMAIN b.example. AAAA 0.001500', '> NOERROR c.example. TXT 0.000100',
    '  Queries sent:         3', '> SERVFAIL d.example. A notanumber',
  ].join('\n');
  assert.deepEqual([...parseVerboseLatencies(text)].map((v) => Math.round(v)), [100, 250, 1500]);
});

test('of several runs the one with the median p99 is kept, with its own p50 and p99.9', () => {
  const run = (p50Us: number, p99Us: number, p999Us: number): { p50Us: number; p99Us: number; p999Us: number } => ({ p50Us, p99Us, p999Us });
  const disturbed = run(90, 4000, 9000);
  const a = run(60, 130, 400);
  const b = run(70, 240, 800);
  assert.equal(medianByP99([disturbed, a, b]), b, 'one disturbed run of three does not set the figure');
  assert.equal(medianByP99([b, a]), a, 'an even count keeps the lower middle');
  assert.equal(medianByP99([a]), a);
  assert.equal(medianByP99([]), null);
});

test('the latency runs get a SCHED_FIFO prefix only for a priority above 0', () => {
  assert.deepEqual(realtimeArgs(0), []);
  assert.deepEqual(realtimeArgs(10), ['chrt', '-f', '10']);
});

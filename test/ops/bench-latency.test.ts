/**
 * @module test/ops/bench-latency.test
 * How the benchmark turns a fixed-rate run into p50/p99/p99.9: a real
 * `dnsperf -v` run against a real server gives one latency per answered
 * query (bench/latency.ts); of several runs the one with the median p99 is
 * kept whole; the real-time prefix and per-thread plan for the latency runs
 * (bench/peers/process.ts).
 * No timing is asserted: counts, order and shape only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureLatency, medianByP99, parseVerboseLatencies } from '../../bench/latency.ts';
import { realtimeArgs, realtimePlan, type HelperMode } from '../../bench/peers/process.ts';
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

test('under --rt P dnsperf runs round-robin one priority above the server\'s helper threads; nothing for 0', () => {
  assert.deepEqual(realtimeArgs(0), []);
  assert.deepEqual(realtimeArgs(10), ['chrt', '-r', '11']);
});

test('--rt puts the threads that answer at SCHED_FIFO, lets a Node runtime\'s helper threads use every CPU, then undoes both', () => {
  const node = [
    { pid: 100, tid: 100, comm: 'MainThread' }, { pid: 100, tid: 101, comm: 'V8Worker' }, { pid: 100, tid: 102, comm: 'DelayedTaskSche' },
    { pid: 100, tid: 103, comm: 'libuv-worker' }, { pid: 100, tid: 104, comm: 'SignalInspector' },
  ];
  const knot = [{ pid: 200, tid: 200, comm: 'knotd' }, { pid: 200, tid: 201, comm: 'knotd' }];
  const main = new Map([[100, '0'], [200, '0']]);
  const plan = (prio: number, mode?: HelperMode): string[][] => realtimePlan([...node, ...knot], prio, '0-1', main, mode).map((t) => [String(t.tid), t.chrt.join(' '), t.cpus ?? '-']);
  assert.deepEqual(plan(10), [
    ['100', '-f -p 11 100', '-'],
    ['101', '-f -p 10 101', '0-1'], ['102', '-f -p 10 102', '0-1'], ['103', '-f -p 10 103', '0-1'], ['104', '-f -p 10 104', '0-1'],
    ['200', '-f -p 11 200', '-'], ['201', '-f -p 10 201', '-'],
  ], 'default (float): main at P+1; Node\'s helpers at P on every CPU; a peer\'s own worker threads (knotd) at P where they are');
  assert.deepEqual(plan(10, 'other').slice(1, 5).map((t) => t[1]), ['-o -p 0 101', '-o -p 0 102', '-o -p 0 103', '-o -p 0 104'], "'other': helpers stay SCHED_OTHER");
  assert.deepEqual(plan(10, 'pinned').map((t) => t[2]), ['-', '-', '-', '-', '-', '-', '-'], "'pinned' (the old method): no thread leaves the server's core");
  assert.deepEqual(plan(10, 'pinned').slice(0, 5).map((t) => t[1]?.split(' ')[2]), ['11', '10', '10', '10', '10']);
  for (const mode of ['float', 'other', 'pinned'] as const) {
    const off = plan(0, mode);
    assert.ok(off.every(([tid, chrt]) => chrt === `-o -p 0 ${tid}`), `${mode}: every thread back to SCHED_OTHER`);
    assert.deepEqual(off.filter((t) => t[2] !== '-').map((t) => [t[0], t[2]]), mode === 'pinned' ? [] : [['101', '0'], ['102', '0'], ['103', '0'], ['104', '0']], `${mode}: helpers back on the main thread's CPUs`);
  }
});

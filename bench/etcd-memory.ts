/**
 * @module bench/etcd-memory
 * Memory per key of the etcd plugin's index at scale (default 100,000
 * keys): heap after a snapshot of N SkyDNS values (a mix of A, AAAA, SRV
 * and TXT records spread over 1,000 subtrees) is fed to the index, the same
 * after a relist (the old tree must be freed), and the time of one put at
 * that size (p50/p99 over 1000 puts). With `--etcd`, the keys are first
 * written to a real etcd (/usr/bin/etcd, started by test/support/etcd.ts)
 * and listed by the prefix watcher, so the figure includes what listing
 * costs after the snapshot is handed over, and the time from a put to its
 * watch event reaching the index (200 puts).
 *
 *   node --expose-gc bench/etcd-memory.ts [--keys N] [--etcd]
 */
import { performance } from 'node:perf_hooks';
import type { EtcdKv } from '../src/cluster/etcd/prefix-watcher.ts';
import { PrefixWatcher } from '../src/cluster/etcd/prefix-watcher.ts';
import { memoryLogger } from '../src/log/logger.ts';
import { EtcdIndex } from '../src/plugins/etcd/index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with: node --expose-gc bench/etcd-memory.ts\n');
  process.exit(2);
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const N = arg('keys', 100_000);
const withEtcd = process.argv.includes('--etcd');
const PREFIX = '/skydns';

function measure(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}
const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

/** Key i: /skydns/test/bench/team-<i%1000>/host-<i>, a value of one of four shapes. */
function keyOf(i: number): string {
  return `${PREFIX}/test/bench/team-${i % 1000}/host-${i}`;
}
function valueOf(i: number, v = 0): string {
  switch (i % 4) {
    case 0: return JSON.stringify({ host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, ttl: 60 + v });
    case 1: return JSON.stringify({ host: `2001:db8::${(i & 0xffff).toString(16)}` });
    case 2: return JSON.stringify({ host: `10.200.${(i >> 8) & 255}.${i & 255}`, port: 8080, priority: 10, weight: 50 });
    default: return JSON.stringify({ text: `owner=team-${i % 1000} id=${i}` });
  }
}
function kvOf(i: number, v = 0): EtcdKv {
  return { key: keyOf(i), value: Buffer.from(valueOf(i, v)), modRevision: i + 1, lease: '0' };
}

async function fromEtcd(): Promise<{ kvs: EtcdKv[]; stop: () => Promise<void> }> {
  const { startEtcd } = await import('../test/support/etcd.ts');
  const etcd = await startEtcd();
  const c = etcd.client();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, j) => c.put(keyOf(i + j)).value(valueOf(i + j))));
  }
  process.stderr.write(`wrote ${N} keys to etcd in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  let kvs: EtcdKv[] = [];
  const waiting = new Map<string, () => void>();
  const w = new PrefixWatcher({ connection: { endpoints: [etcd.endpoint] }, prefix: `${PREFIX}/`, log: memoryLogger() }, {
    onSnapshot(k) { kvs = [...k]; }, onPut(kv) { waiting.get(kv.key)?.(); }, onDelete() {},
  });
  const t1 = performance.now();
  w.start();
  for (let i = 0; i < 6000 && kvs.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  process.stderr.write(`listed ${kvs.length} keys in ${((performance.now() - t1) / 1000).toFixed(2)} s\n`);
  // Put -> watch event delivered to the consumer (the index applies it synchronously), 200 times one after another.
  const lat: number[] = [];
  for (let j = 0; j < 200; j++) {
    const key = `${PREFIX}/test/bench/latency/k${j}`;
    const t = performance.now();
    await new Promise<void>((resolve) => { waiting.set(key, resolve); void c.put(key).value('{"host":"10.9.0.1"}').exec(); });
    lat.push(performance.now() - t);
    waiting.delete(key);
  }
  lat.sort((a, b) => a - b);
  process.stdout.write(`put -> watch event at the index: p50 ${lat[100]!.toFixed(1)} ms, p99 ${lat[198]!.toFixed(1)} ms, max ${lat[199]!.toFixed(1)} ms (200 puts)\n`);
  kvs = kvs.filter((kv) => !kv.key.includes('/latency/'));
  return { kvs, stop: async () => { await w.stop(); await etcd.dispose(); } };
}

async function main(): Promise<void> {
  const base = measure();
  let kvs: EtcdKv[] = [];
  let stop = async (): Promise<void> => {};
  if (withEtcd) ({ kvs, stop } = await fromEtcd());
  else for (let i = 0; i < N; i++) kvs.push(kvOf(i));
  let index: EtcdIndex | null = new EtcdIndex(PREFIX, memoryLogger());
  const t0 = performance.now();
  index.onSnapshot(kvs, N);
  const snapshotMs = performance.now() - t0;
  kvs = [];
  const withIndex = measure();
  // Relist: the same keys again, with changed values; the old tree must go.
  const again: EtcdKv[] = [];
  for (let i = 0; i < N; i++) again.push(kvOf(i, 1));
  index.onSnapshot(again, 2 * N);
  again.length = 0;
  const afterRelist = measure();
  const times: number[] = [];
  for (let j = 0; j < 1000; j++) {
    const t = performance.now();
    index.onPut(kvOf((j * 7919) % N, 2), 3 * N + j);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const served = index.size;
  index = null;
  // What is left without the index (the etcd client with --etcd): the index's own cost is the difference.
  const without = measure();
  const lines = [
    `keys: ${N} (${withEtcd ? 'listed from a real etcd' : 'synthetic snapshot'}), served: ${served}`,
    `heap: start ${mb(base)}, with the index ${mb(withIndex)}, without it ${mb(without)}`,
    `index: ${mb(withIndex - without)} = ${((withIndex - without) / N).toFixed(0)} bytes per key; after a relist ${((afterRelist - without) / N).toFixed(0)} bytes per key`,
    `snapshot into the index: ${snapshotMs.toFixed(0)} ms; one put: p50 ${(times[500]! * 1000).toFixed(1)} µs, p99 ${(times[990]! * 1000).toFixed(1)} µs`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await stop();
}

await main();

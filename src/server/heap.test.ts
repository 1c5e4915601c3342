/**
 * @module server/heap.test
 * The heap flags: which are added to which command line, and that a real
 * clusterdns process (node src/main.ts) runs with the semi-space limit,
 * as its own /metrics says, and with MALLOC_ARENA_MAX (its /proc environ),
 * unless the operator chose them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CliServer } from '../../test/server/helpers/cli.ts';
import { freePort } from '../../test/support/ports.ts';
import { inputDir } from '../../test/support/cli.ts';
import { DEFAULT_HEAP_GROWING_PERCENT, DEFAULT_SEMI_SPACE_MIB, heapFlagsToAdd, heapGrowingPercentToSet, mallocEnvToAdd, semiSpaceMiB } from './heap.ts';

test('the semi-space flag is added unless the command line or NODE_OPTIONS has one', () => {
  assert.deepEqual(heapFlagsToAdd([], {}), [`--max-semi-space-size=${DEFAULT_SEMI_SPACE_MIB}`]);
  assert.deepEqual(heapFlagsToAdd(['--trace-gc'], {}), [`--max-semi-space-size=${DEFAULT_SEMI_SPACE_MIB}`]);
  assert.deepEqual(heapFlagsToAdd(['--max-semi-space-size=16'], {}), []);
  assert.deepEqual(heapFlagsToAdd(['--max_semi_space_size=16'], {}), []);
  assert.deepEqual(heapFlagsToAdd([], { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8' }), []);
  assert.deepEqual(heapFlagsToAdd([], { CLUSTERDNS_SEMI_SPACE_MIB: '4' }), ['--max-semi-space-size=4']);
  assert.deepEqual(heapFlagsToAdd([], { CLUSTERDNS_SEMI_SPACE_MIB: '0' }), []);
  assert.throws(() => heapFlagsToAdd([], { CLUSTERDNS_SEMI_SPACE_MIB: 'big' }), /CLUSTERDNS_SEMI_SPACE_MIB=big: want a whole number/);
});

test('the old generation growth set once started: the default, unless the operator gave the flag or 0', () => {
  assert.equal(heapGrowingPercentToSet([], {}), DEFAULT_HEAP_GROWING_PERCENT);
  assert.equal(heapGrowingPercentToSet([], { CLUSTERDNS_HEAP_GROWING_PERCENT: '35' }), 35);
  assert.equal(heapGrowingPercentToSet([], { CLUSTERDNS_HEAP_GROWING_PERCENT: '0' }), null);
  assert.equal(heapGrowingPercentToSet(['--heap_growing_percent=50'], {}), null);
  assert.equal(heapGrowingPercentToSet([], { NODE_OPTIONS: '--heap-growing-percent=10' }), null);
  assert.throws(() => heapGrowingPercentToSet([], { CLUSTERDNS_HEAP_GROWING_PERCENT: 'lots' }), /CLUSTERDNS_HEAP_GROWING_PERCENT=lots: want a whole percentage/);
});

test('the semi-space limit read back: the command line wins over NODE_OPTIONS, as in node', () => {
  assert.equal(semiSpaceMiB([], {}), null);
  assert.equal(semiSpaceMiB(['--max-semi-space-size=2'], { NODE_OPTIONS: '--max-semi-space-size=8' }), 2);
  assert.equal(semiSpaceMiB([], { NODE_OPTIONS: '--max_semi_space_size=8' }), 8);
});

test('MALLOC_ARENA_MAX=2 and a fixed mmap threshold are added unless the environment sets them or a glibc.malloc tunable', () => {
  const threshold = { MALLOC_MMAP_THRESHOLD_: '131072' };
  assert.deepEqual(mallocEnvToAdd({}), { MALLOC_ARENA_MAX: '2', ...threshold });
  assert.deepEqual(mallocEnvToAdd({ MALLOC_ARENA_MAX: '8' }), threshold);
  assert.deepEqual(mallocEnvToAdd({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' }), threshold);
  assert.deepEqual(mallocEnvToAdd({ GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0' }), { MALLOC_ARENA_MAX: '2', ...threshold });
  assert.deepEqual(mallocEnvToAdd({ MALLOC_MMAP_THRESHOLD_: '65536' }), { MALLOC_ARENA_MAX: '2' });
  assert.deepEqual(mallocEnvToAdd({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' }), { MALLOC_ARENA_MAX: '2' });
});

async function startedWith(env: Readonly<Record<string, string | undefined>>): Promise<{ cmdline: string[]; environ: string[]; semi: number | null; growing: number | null }> {
  const metrics = await freePort();
  const files = inputDir('clusterdns-heap-');
  const conf = files.write('Corefile', `.:0 {\n    bind 127.0.0.1\n    prometheus 127.0.0.1:${metrics}\n    whoami\n}\n`);
  const server = new CliServer(['-conf', conf], files.dir, { NODE_OPTIONS: undefined, CLUSTERDNS_SEMI_SPACE_MIB: undefined, CLUSTERDNS_HEAP_GROWING_PERCENT: undefined, MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined, GLIBC_TUNABLES: undefined, ...env });
  try {
    await server.ports(20_000);
    const cmdline = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const environ = readFileSync(`/proc/${server.child.pid}/environ`, 'utf8').split('\0').filter(Boolean);
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    const gauge = (name: string): number | null => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? null : Number(line.split(' ')[1]);
    };
    return { cmdline, environ, semi: gauge('clusterdns_heap_max_semi_space_bytes'), growing: gauge('clusterdns_heap_growing_percent') };
  } finally {
    server.child.kill('SIGTERM');
    if ((await server.waitExit(10_000)) === null) await server.kill();
  }
}

test('a spawned server re-executes itself with the semi-space limit and reports it', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, async () => {
  const r = await startedWith({});
  assert.ok(r.cmdline.includes(`--max-semi-space-size=${DEFAULT_SEMI_SPACE_MIB}`), r.cmdline.join(' '));
  assert.equal(r.semi, DEFAULT_SEMI_SPACE_MIB * 2 ** 20);
  assert.equal(r.growing, DEFAULT_HEAP_GROWING_PERCENT, 'the old generation growth is set once started');
  assert.ok(r.environ.includes('MALLOC_ARENA_MAX=2'), r.environ.join(' '));
  assert.ok(r.environ.includes('MALLOC_MMAP_THRESHOLD_=131072'), r.environ.join(' '));
});

test("an operator's MALLOC_ARENA_MAX is kept, and alone it still gets the semi-space limit", { skip: process.platform !== 'linux' ? 'reads /proc' : false }, async () => {
  const r = await startedWith({ MALLOC_ARENA_MAX: '4' });
  assert.ok(r.environ.includes('MALLOC_ARENA_MAX=4') && !r.environ.includes('MALLOC_ARENA_MAX=2'), r.environ.join(' '));
  assert.equal(r.semi, DEFAULT_SEMI_SPACE_MIB * 2 ** 20);
  const own = await startedWith({ NODE_OPTIONS: '--max-semi-space-size=8' });
  assert.ok(own.environ.includes('MALLOC_ARENA_MAX=2'), own.environ.join(' '));
});

test("an operator's NODE_OPTIONS semi-space is kept; CLUSTERDNS_SEMI_SPACE_MIB=0 leaves V8's default", { skip: process.platform !== 'linux' ? 'reads /proc' : false }, async () => {
  const own = await startedWith({ NODE_OPTIONS: '--max-semi-space-size=8' });
  assert.ok(!own.cmdline.some((a) => a.startsWith('--max-semi-space-size')), own.cmdline.join(' '));
  assert.equal(own.semi, 8 * 2 ** 20);
  const off = await startedWith({ CLUSTERDNS_SEMI_SPACE_MIB: '0', CLUSTERDNS_HEAP_GROWING_PERCENT: '0' });
  assert.ok(!off.cmdline.some((a) => a.startsWith('--max-semi-space-size')), off.cmdline.join(' '));
  assert.equal(off.semi, null);
  assert.equal(off.growing, null, 'CLUSTERDNS_HEAP_GROWING_PERCENT=0 leaves V8 its own factor');
});

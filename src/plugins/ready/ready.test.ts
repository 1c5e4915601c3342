/**
 * @module plugins/ready/ready.test
 * The ready plugin: option parser; 200 "OK" only when every plugin that
 * registered a readiness check is ready, else 503 with their names one per
 * line; `monitor until-ready` vs `continuously`; /ready never flips during a
 * reload whose new configuration takes time to start; 503 "Shutting down"
 * from the stop signal on.
 */
import { test } from 'node:test';
import { setupError } from '../../../test/support/setup-error.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../app/app.ts';
import { memoryLogger } from '../../log/logger.ts';
import { PLUGIN_ORDER } from '../../plugin/order.ts';
import { argCount } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';
import { PluginRegistry } from '../../plugin/registry.ts';
import { BUILTIN_PLUGINS } from '../index.ts';
import { httpGet } from '../../../test/ops/ops-support.ts';
import { delay } from '../../../test/support/wait-until.ts';

test('ready options: valid and invalid snippets', () => {
  for (const c of ['. {\n  ready\n}', '. {\n  ready :8181\n}', '. {\n  ready 127.0.0.1:0 {\n    monitor continuously\n  }\n}', '. {\n  ready {\n    monitor until-ready\n  }\n}']) {
    assert.equal(setupError(c), '', c);
  }
  const invalid: [string, string][] = [
    ['. {\n  ready 8181\n}', "Corefile:2: plugin/ready: '8181' is not an address with a port (HOST:PORT or :PORT)"],
    ['. {\n  ready :1 :2\n}', "Corefile:2: plugin/ready: 'ready' takes 0 to 1 arguments, got 2"],
    ['. {\n  ready {\n    monitor sometimes\n  }\n}', "Corefile:3: plugin/ready: monitor must be until-ready or continuously, got 'sometimes'"],
    ['. {\n  ready {\n    monitor\n  }\n}', "Corefile:3: plugin/ready: 'monitor' takes 1 argument, got 0"],
    ['. {\n  ready {\n    lameduck 5s\n  }\n}', "Corefile:3: plugin/ready: unknown property 'lameduck'"],
  ];
  for (const [c, want] of invalid) assert.equal(setupError(c), want, c);
});

/** Test plugins: `flag NAME` is ready while flags[NAME]; `slowsync DELAY_MS` is ready once its startup (DELAY_MS long) finished. */
const flags = new Map<string, boolean>();
const flag: PluginDefinition = {
  name: 'flag',
  setup(d, ctx) {
    argCount(d, 'flag', 1, 1);
    const name = d.args[0]!;
    ctx.readyCheck(name, () => flags.get(name) ?? false);
    return null;
  },
};
const slowsync: PluginDefinition = {
  name: 'slowsync',
  setup(d, ctx) {
    const state = { synced: false };
    ctx.readyCheck('slowsync', () => state.synced);
    ctx.onStartup(async () => { await delay(Number(d.args[0])); state.synced = true; });
    return null;
  },
};
const registry = new PluginRegistry([...BUILTIN_PLUGINS, flag, slowsync], [...PLUGIN_ORDER, 'flag', 'slowsync']);

async function withApp(corefile: string, fn: (app: App, readyPort: number, file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-ready-'));
  const file = join(dir, 'Corefile');
  writeFileSync(file, corefile);
  const app = new App({ corefilePath: file, logger: memoryLogger(), registry, tcp: { idleTimeoutMs: 2000, maxConnections: 100 } });
  try {
    await app.start();
    await fn(app, app.services.http.port('127.0.0.1:0')!, file);
  } finally {
    await app.stop(1000);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('503 with the not-ready plugins one per line, 200 "OK" when all are; until-ready remembers', async () => {
  flags.set('alpha', false);
  flags.set('beta', false);
  await withApp('.:0 {\n  bind 127.0.0.1\n  ready 127.0.0.1:0\n  flag beta\n  flag alpha\n  whoami\n}\n', async (_app, port) => {
    assert.deepEqual(await httpGet(port, '/ready').then((a) => [a.status, a.body]), [503, 'alpha\nbeta\n']);
    flags.set('alpha', true);
    assert.deepEqual(await httpGet(port, '/ready').then((a) => [a.status, a.body]), [503, 'beta\n']);
    flags.set('beta', true);
    assert.deepEqual(await httpGet(port, '/ready').then((a) => [a.status, a.body]), [200, 'OK']);
    // monitor until-ready (the default): once ready, a plugin is not asked again.
    flags.set('alpha', false);
    assert.deepEqual(await httpGet(port, '/ready').then((a) => [a.status, a.body]), [200, 'OK']);
    assert.equal((await httpGet(port, '/other')).status, 404);
  });
});

test('monitor continuously keeps asking', async () => {
  flags.set('gamma', true);
  await withApp('.:0 {\n  bind 127.0.0.1\n  ready 127.0.0.1:0 {\n    monitor continuously\n  }\n  flag gamma\n  whoami\n}\n', async (_app, port) => {
    assert.equal((await httpGet(port, '/ready')).status, 200);
    flags.set('gamma', false);
    assert.deepEqual(await httpGet(port, '/ready').then((a) => [a.status, a.body]), [503, 'gamma\n']);
  });
});

test('/ready stays 200 through a reload whose new configuration is slow to start', async () => {
  const corefile = (v: string): string => `.:0 {\n  bind 127.0.0.1\n  ready 127.0.0.1:0\n  slowsync 300\n  chaos ${v}\n}\n`;
  await withApp(corefile('one'), async (app, port, file) => {
    assert.equal((await httpGet(port, '/ready')).status, 200);
    writeFileSync(file, corefile('two'));
    let done = false;
    const reloading = app.reload().finally(() => { done = true; });
    const seen: number[] = [];
    let duringReload = 0;
    for (let i = 0; i < 200 && !done; i++) {
      const status = (await httpGet(port, '/ready')).status;
      seen.push(status);
      // Counted only when the answer came back with the reload still running (a count, not a timing bound).
      if (!done) duringReload++;
      await delay(10);
    }
    assert.equal(await reloading, true);
    assert.ok(duringReload >= 1, `an answer came while the reload was still running (${seen.length} polls)`);
    assert.deepEqual([...new Set(seen)], [200]);
    assert.equal((await httpGet(port, '/ready')).status, 200);
  });
});

test('503 "Shutting down" once stopping begins (lameduck), while /health still says 200', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-ready-stop-'));
  try {
    const file = join(dir, 'Corefile');
    writeFileSync(file, '.:0 {\n  bind 127.0.0.1\n  ready 127.0.0.1:0\n  health 127.0.0.1:0 {\n    lameduck 1s\n  }\n  whoami\n}\n');
    const app = new App({ corefilePath: file, logger: memoryLogger(), registry });
    await app.start();
    const port = app.services.http.port('127.0.0.1:0')!;
    assert.equal((await httpGet(port, '/ready')).status, 200);
    const stopping = app.stop(1000);
    try {
      assert.deepEqual(await httpGet(port, '/ready').then((a) => [a.status, a.body]), [503, 'Shutting down']);
      assert.deepEqual(await httpGet(port, '/health').then((a) => [a.status, a.body]), [200, 'OK']);
    } finally {
      await stopping;
    }
    await assert.rejects(httpGet(port, '/ready'), /ECONNREFUSED/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * @module plugins/reload/reload.test
 * The reload plugin: its option parser, the schedule (jitter capped at
 * half the interval), content-hash change detection (comments do not count,
 * imported files and ConfigMap-style symlink swaps do), a bad Corefile that
 * keeps the old configuration, logs FILE:LINE and bumps
 * coredns_reload_failed_total once, and one process-wide timer across
 * generations that stops when `reload` is removed.
 */
import { test } from 'node:test';
import { setupError } from '../../../test/support/setup-error.ts';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Class, Type } from '../../dns/constants.ts';
import { inject, startServer, type TestServer } from '../../../test/support/harness.ts';
import { scrape, total } from '../../../test/ops/ops-support.ts';
import { bindLoopbackUdp } from '../../../test/support/udp-client.ts';

test('reload options: valid and invalid snippets', () => {
  for (const c of ['. {\n  reload\n}', '. {\n  reload 10s\n}', '. {\n  reload 2s 1s\n}', '. {\n  reload 1m 30s\n}']) assert.equal(setupError(c), '', c);
  const invalid: [string, string][] = [
    ['. {\n  reload 1s\n}', 'Corefile:2: plugin/reload: interval value must be greater or equal to 2s, got 1s'],
    ['. {\n  whoami\n  reload 10s 500ms\n}', 'Corefile:3: plugin/reload: jitter value must be greater or equal to 1s, got 500ms'],
    ['. {\n  reload often\n}', "Corefile:2: plugin/reload: interval 'often' is not a duration (like 5s, 1m, 250ms)"],
    ['. {\n  reload 10s soon\n}', "Corefile:2: plugin/reload: jitter 'soon' is not a duration (like 5s, 1m, 250ms)"],
    ['. {\n  reload 10s 2s 1s\n}', "Corefile:2: plugin/reload: 'reload' takes 0 to 2 arguments, got 3"],
    ['. {\n  reload {\n    every 10s\n  }\n}', "Corefile:2: plugin/reload: 'reload' takes no block"],
    ['. {\n  reload\n  reload 5s\n}', 'Corefile:3: plugin/reload: this plugin can only be used once per server block'],
  ];
  for (const [c, want] of invalid) assert.equal(setupError(c), want, c);
});

const block = (body: string): string => `.:0 {\n  bind 127.0.0.1\n${body}}\n`;

async function version(srv: TestServer): Promise<string> {
  const m = await inject(srv.app, 'version.bind.', 'TXT', { qclass: Class.CH });
  assert.equal(m.answer.length, 1);
  return Buffer.from(m.answer[0]!.data.subarray(1)).toString();
}

async function withCorefile(
  text: string, fn: (file: string, srv: TestServer, dir: string) => Promise<void>, others: Record<string, string> = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-reload-'));
  try {
    const file = join(dir, 'Corefile');
    writeFileSync(file, text);
    for (const [name, content] of Object.entries(others)) writeFileSync(join(dir, name), content);
    const srv = await startServer('', { path: file });
    try { await fn(file, srv, dir); } finally { await srv.stop(); }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('schedule: interval +/- half the jitter, jitter capped at interval/2; logs the running SHA512', async () => {
  await withCorefile(block('  reload 4s 3s\n  chaos one\n'), async (_file, srv) => {
    const delay = srv.app.reloadWatcher.delayMs!;
    // Jitter 3s is capped at 2s: the delay is 4s +/- 1s.
    assert.ok(delay >= 3000 && delay <= 5000, `delay ${delay}`);
    assert.ok(srv.logs.includes(`[INFO] plugin/reload: Running configuration SHA512 = ${srv.app.configHash}`), srv.logs.join('\n'));
    assert.match(srv.app.configHash, /^[0-9a-f]{128}$/);
  });
  await withCorefile(block('  reload\n  chaos one\n'), async (_file, srv) => {
    const delay = srv.app.reloadWatcher.delayMs!;
    assert.ok(delay >= 22_500 && delay <= 37_500, `default 30s +/- 7.5s, got ${delay}`);
  });
});

test('content changes reload, comments and touches do not; imported files count', async () => {
  await withCorefile(block('  reload 2s 1s\n  import more\n'), async (file, srv, dir) => {
    const more = join(dir, 'more');
    const watcher = srv.app.reloadWatcher;
    assert.equal(await version(srv), 'one');
    writeFileSync(file, `# a comment changes nothing\n${block('  reload 2s 1s\n  import more\n')}`);
    assert.equal(await watcher.check(), 'unchanged');
    writeFileSync(more, 'chaos two\n');
    assert.equal(await watcher.check(), 'reloaded');
    assert.equal(await version(srv), 'two');
    assert.equal(await watcher.check(), 'unchanged');
  }, { more: 'chaos one\n' });
});

test('a ConfigMap-style symlink swap is detected', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-cm-'));
  try {
    // kubelet's layout: Corefile -> ..data/Corefile, ..data -> ..2024_01_01 (swapped atomically by rename).
    const v1 = join(dir, '..v1');
    const v2 = join(dir, '..v2');
    mkdirSync(v1);
    mkdirSync(v2);
    writeFileSync(join(v1, 'Corefile'), block('  reload 2s 1s\n  chaos one\n'));
    writeFileSync(join(v2, 'Corefile'), block('  reload 2s 1s\n  chaos two\n'));
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/Corefile', join(dir, 'Corefile'));
    const srv = await startServer('', { path: join(dir, 'Corefile') });
    try {
      assert.equal(await version(srv), 'one');
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      assert.equal(await srv.app.reloadWatcher.check(), 'reloaded');
      assert.equal(await version(srv), 'two');
    } finally {
      await srv.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad Corefile keeps the old configuration, logs FILE:LINE once and counts one failure', async () => {
  const good = block('  reload 2s 1s\n  prometheus 127.0.0.1:0\n  chaos one\n');
  await withCorefile(good, async (file, srv) => {
    const watcher = srv.app.reloadWatcher;
    const port = srv.app.services.http.port('127.0.0.1:0')!;
    assert.equal(total(await scrape(port), 'coredns_reload_failed_total'), 0);
    writeFileSync(file, block('  reload 2s 1s\n  bogus\n  prometheus 127.0.0.1:0\n  chaos one\n'));
    assert.equal(await watcher.check(), 'failed');
    assert.equal(await watcher.check(), 'unchanged', 'the same bad content is not retried');
    assert.deepEqual(srv.logs.filter((l) => l.startsWith('[ERROR]')), [
      `[ERROR] plugin/reload: Corefile changed but reload failed: ${file}:4: unknown directive 'bogus'`,
    ]);
    // A syntax error is a failed reload too.
    writeFileSync(file, block('  reload 2s 1s\n  prometheus 127.0.0.1:0\n  chaos one {\n'));
    assert.equal(await watcher.check(), 'failed');
    assert.equal(await version(srv), 'one', 'still the old configuration');
    const m = await scrape(port);
    assert.equal(total(m, 'coredns_reload_failed_total'), 2);
    const [info] = m.get('coredns_reload_version_info')!.data;
    assert.deepEqual(info!.labels, { hash: 'sha512', value: srv.app.configHash });
    // Fixed: the next check reloads.
    writeFileSync(file, good.replace('chaos one', 'chaos three'));
    assert.equal(await watcher.check(), 'reloaded');
    assert.equal(await version(srv), 'three');
  });
});

test('one timer for the process: re-armed by each generation, gone when reload is removed or on stop', async () => {
  await withCorefile(block('  reload 2s 1s\n  chaos one\n'), async (file, srv) => {
    const watcher = srv.app.reloadWatcher;
    assert.ok(watcher.delayMs !== null);
    writeFileSync(file, block('  reload 3s 1s\n  chaos two\n'));
    assert.equal(await watcher.check(), 'reloaded');
    assert.equal(srv.app.reloadWatcher, watcher, 'the same watcher');
    assert.ok(watcher.delayMs! >= 2500 && watcher.delayMs! <= 3500, 'the new generation re-armed it with its interval');
    writeFileSync(file, block('  chaos three\n'));
    assert.equal(await watcher.check(), 'reloaded');
    assert.equal(watcher.delayMs, null, 'no reload line, no polling');
    assert.equal(await version(srv), 'three');
  });
  await withCorefile(block('  reload 2s 1s\n  chaos one\n'), async (_file, srv) => {
    const watcher = srv.app.reloadWatcher;
    await srv.stop();
    assert.equal(watcher.delayMs, null);
  });
});

test('a failed reload after the new configuration armed leaves the old schedule running', async () => {
  await withCorefile(block('  reload 2s 1s\n  chaos one\n'), async (file, srv) => {
    const watcher = srv.app.reloadWatcher;
    // The new block's port is held by a socket of the test on 127.0.0.1: listening fails after startup.
    const holder = await bindLoopbackUdp();
    const busy = holder.address().port;
    writeFileSync(file, `${block('  reload 2s 1s\n  chaos one\n')}.:${busy} {\n  bind 127.0.0.1\n  reload 8s 1s\n  chaos two\n}\n`);
    try {
      assert.equal(await watcher.check(), 'failed');
    } finally {
      holder.close();
    }
    assert.match(srv.logs.find((l) => l.startsWith('[ERROR]')) ?? '', /^\[ERROR\] plugin\/reload: Corefile changed but reload failed: .*EADDRINUSE/);
    const delay = watcher.delayMs!;
    assert.ok(delay >= 1500 && delay <= 2500, `back on the running 2s schedule, got ${delay}`);
    assert.equal((await inject(srv.app, 'version.bind.', Type.TXT, { qclass: Class.CH })).answer.length, 1);
  });
});

/**
 * @module test/ops/lazy-plugins.test
 * A plugin's module, and the libraries it pulls in, is loaded only when the
 * Corefile uses the plugin (src/plugins/index.ts): a server without `etcd`
 * never loads the etcd plugin, etcd3 or gRPC; without `kubernetes`, neither
 * the kubernetes plugin nor its index. Watched in a fresh process with a
 * node:module load hook (require and import alike) that records every module
 * file; the server really starts and answers through the chain. Node's own
 * modules are read from process.moduleLoadList (internal loads bypass hooks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

const APP = new URL('../../src/app/app.ts', import.meta.url).href;
const LOGGER = new URL('../../src/log/logger.ts', import.meta.url).href;
const HARNESS = new URL('../support/harness.ts', import.meta.url).href;

interface ChildResult { readonly loaded: readonly string[]; readonly builtins: readonly string[]; readonly answer: string }

/** Starts an App on `corefile` in a new process, asks it `whoami`-style for one name, lists every module file it loaded. */
function childRun(corefile: string): Promise<ChildResult> {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    const { App } = await import(${JSON.stringify(APP)});
    const { memoryLogger } = await import(${JSON.stringify(LOGGER)});
    const { inject } = await import(${JSON.stringify(HARNESS)});
    const app = new App({ corefilePath: 'Corefile', corefileText: process.env.TEST_COREFILE, logger: memoryLogger(), env: {} });
    await app.start();
    const reply = await inject(app, 'example.org.', 'A');
    await app.stop(0);
    process.stdout.write(JSON.stringify({ loaded, builtins: process.moduleLoadList, answer: reply.rcode + ' ' + reply.additional.length }));
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000, env: { ...process.env, TEST_COREFILE: corefile } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as ChildResult);
    });
  });
}

const has = (r: ChildResult, part: string): boolean => r.loaded.some((u) => u.includes(part));

test('a Corefile without etcd or kubernetes loads neither plugin nor their libraries; one with etcd loads the etcd plugin', async () => {
  const plain = await childRun('.:0 {\n  bind 127.0.0.1\n  whoami\n}\n');
  assert.ok(has(plain, '/src/plugins/whoami/'), 'the hook sees the plugins the Corefile uses');
  assert.match(plain.answer, /^0 [1-9]/, 'whoami answered (NOERROR, its records in the additional section)');
  for (const absent of ['/src/plugins/etcd/', '/src/cluster/etcd/', '/node_modules/etcd3/', '/node_modules/@grpc/', '/src/plugins/kubernetes/', '/src/plugins/forward/', '/src/plugins/cache/', '/src/plugins/file/']) {
    assert.equal(has(plain, absent), false, `${absent} not loaded`);
  }

  const withEtcd = await childRun('.:0 {\n  bind 127.0.0.1\n  etcd skydns.local {\n    endpoint http://127.0.0.1:1\n    fallthrough\n  }\n  whoami\n}\n');
  assert.ok(has(withEtcd, '/src/plugins/etcd/'), 'etcd plugin loaded when used');
  assert.equal(has(withEtcd, '/src/plugins/kubernetes/'), false, 'kubernetes still not loaded');
});

test('health, ready, prometheus and a plain forward load neither undici, node:tls, node:https nor prom-client\'s Pushgateway', async () => {
  // An ES-module import of node:http reads its lazy WebSocket export and loads undici (with tls, http2, zlib): 13 MiB of RSS.
  const r = await childRun('.:0 {\n  bind 127.0.0.1\n  health 127.0.0.1:0\n  ready 127.0.0.1:0\n  prometheus 127.0.0.1:0\n  forward example.net 127.0.0.1:1\n  whoami\n}\n');
  assert.match(r.answer, /^0 [1-9]/, 'whoami answered');
  assert.ok(r.builtins.includes('NativeModule http'), 'the hook sees node:http, which health and prometheus use');
  assert.ok(has(r, '/src/plugins/forward/'), 'forward loaded');
  for (const absent of ['NativeModule internal/deps/undici/undici', 'NativeModule tls', 'NativeModule https', 'NativeModule http2', 'NativeModule zlib']) {
    assert.equal(r.builtins.includes(absent), false, `${absent} not loaded`);
  }
  assert.equal(has(r, '/prom-client/lib/pushgateway.js'), false, 'prom-client/lib/pushgateway.js not loaded');
  assert.ok(has(r, '/prom-client/lib/registry.js'), 'prom-client loaded');
});

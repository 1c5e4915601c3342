/**
 * @module test/live/lazy-client.test
 * @kubernetes/client-node (~40 MiB RSS, seconds of CPU to import) is never
 * loaded by the server: not for a manifest folder (the demo), not for an
 * `endpoint` (or in-cluster, the same plain HTTPS client), and not for a
 * `kubeconfig`, whose credentials come from a helper process (the server
 * syncs with them over HTTPS). Module resolution is watched with a
 * node:module resolve hook in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ns } from '../support/k8s-objects.ts';
import { makeTempDir, removeDir } from '../support/kubeconfig.ts';
import { kube, kubeconfigFor, startApi, TOKEN } from './live-support.ts';

const APP = new URL('../../src/app/app.ts', import.meta.url).href;
const LOGGER = new URL('../../src/log/logger.ts', import.meta.url).href;
const EXAMPLES = fileURLToPath(new URL('../../examples/cluster', import.meta.url));

/** Starts an App on `corefile` in a new process; reports whether client-node was resolved, and the kubernetes log lines. */
function childRun(corefile: string): Promise<{ clientNode: boolean; lines: string[] }> {
  const script = `
    import { registerHooks } from 'node:module';
    let clientNode = false;
    registerHooks({ resolve(specifier, context, next) {
      const r = next(specifier, context);
      if (r.url.includes('/@kubernetes/client-node/')) clientNode = true;
      return r;
    } });
    const { App } = await import(${JSON.stringify(APP)});
    const { memoryLogger } = await import(${JSON.stringify(LOGGER)});
    const logger = memoryLogger();
    const app = new App({ corefilePath: 'Corefile', corefileText: process.env.TEST_COREFILE, logger, env: {} });
    await app.start();
    await app.stop(0);
    process.stdout.write(JSON.stringify({ clientNode, lines: logger.lines.filter((l) => l.includes('plugin/kubernetes')) }));
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 90_000, env: { ...process.env, TEST_COREFILE: corefile } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { clientNode: boolean; lines: string[] });
    });
  });
}

test('the server never loads @kubernetes/client-node: manifests, endpoint, and a kubeconfig (its helper process does)', async () => {
  const manifests = await childRun(`.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    manifests ${EXAMPLES}\n  }\n}\n`);
  assert.ok(manifests.lines.some((l) => /manifests: \d+ objects/.test(l)), manifests.lines.join('\n'));
  assert.equal(manifests.clientNode, false, 'manifests: not loaded');

  // Port 1 on loopback refuses at once; the short timeout keeps the child quick.
  const api = await childRun('.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    endpoint http://127.0.0.1:1\n    startup_timeout 200ms\n  }\n}\n');
  assert.ok(api.lines.some((l) => l.includes('starting server with unsynced Kubernetes API')), api.lines.join('\n'));
  assert.equal(api.clientNode, false, 'endpoint: not loaded');

  // A kubeconfig (token + CA over HTTPS): the credentials come from the helper process, the server syncs
  // with them, and the library never loads in the server.
  const fake = await startApi();
  const dir = await makeTempDir();
  try {
    fake.create(kube(ns('prod')));
    const kubeconfig = await kubeconfigFor(fake, dir);
    const viaKubeconfig = await childRun(`.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    kubeconfig ${kubeconfig}\n    startup_timeout 60s\n  }\n}\n`);
    assert.ok(!viaKubeconfig.lines.some((l) => l.includes('unsynced')), viaKubeconfig.lines.join('\n'));
    assert.ok(fake.requestLog.length > 0 && fake.requestLog.every((r) => r.authorization === `Bearer ${TOKEN}`), 'every request carried the kubeconfig token');
    assert.equal(viaKubeconfig.clientNode, false, 'kubeconfig: not loaded in the server');
  } finally {
    await fake.stop();
    await removeDir(dir);
  }
});

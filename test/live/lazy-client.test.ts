/**
 * @module test/live/lazy-client.test
 * @kubernetes/client-node (~90 MB RSS, ~0.5 s to import) is loaded only
 * for a kubeconfig: a fresh process serving a manifest folder (the demo)
 * never resolves it, nor does one talking to an `endpoint` (or in-cluster,
 * which uses the same plain HTTPS client); one with a `kubeconfig` does. Module resolution is watched with a
 * node:module resolve hook in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeDir, writeKubeconfig } from '../support/kubeconfig.ts';

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
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, env: { ...process.env, TEST_COREFILE: corefile } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { clientNode: boolean; lines: string[] });
    });
  });
}

test('manifests and endpoint never load @kubernetes/client-node; a kubeconfig does', async () => {
  const manifests = await childRun(`.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    manifests ${EXAMPLES}\n  }\n}\n`);
  assert.ok(manifests.lines.some((l) => /manifests: \d+ objects/.test(l)), manifests.lines.join('\n'));
  assert.equal(manifests.clientNode, false, 'manifests: not loaded');

  // Port 1 on loopback refuses at once; the short timeout keeps the child quick.
  const api = await childRun('.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    endpoint http://127.0.0.1:1\n    startup_timeout 200ms\n  }\n}\n');
  assert.ok(api.lines.some((l) => l.includes('starting server with unsynced Kubernetes API')), api.lines.join('\n'));
  assert.equal(api.clientNode, false, 'endpoint: not loaded');

  const dir = await makeTempDir();
  try {
    const kubeconfig = await writeKubeconfig(dir, { server: 'http://127.0.0.1:1' });
    const viaKubeconfig = await childRun(`.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    kubeconfig ${kubeconfig}\n    startup_timeout 200ms\n  }\n}\n`);
    assert.ok(viaKubeconfig.lines.some((l) => l.includes('starting server with unsynced Kubernetes API')), viaKubeconfig.lines.join('\n'));
    assert.equal(viaKubeconfig.clientNode, true, 'kubeconfig: loaded');
  } finally {
    await removeDir(dir);
  }
});

/**
 * @module cluster/api/source.test
 * KubernetesApiSource end to end against the fake API server: all kinds with
 * label/field selectors, kubeconfig context and connection precedence,
 * endpoint URL, in-cluster config (env + token + CA over HTTPS), kubeconfig
 * client certificates, and sync timeouts.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeApiServer } from '../../../test/support/fake-apiserver.ts';
import { endpointSliceObject, namespaceObject, podObject, serviceObject } from '../../../test/support/fake-objects.ts';
import { makeTempDir, removeDir, writeKubeconfig } from '../../../test/support/kubeconfig.ts';
import { RecordingLogger } from '../../../test/support/recording-logger.ts';
import { RecordingSink } from '../../../test/support/recording-sink.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import type { EndpointSliceRecord, PodRecord } from '../types.ts';
import { KubernetesApiSource, POD_FIELD_SELECTOR, resourceSpecs } from './source.ts';
import { resolveConnection } from './connection.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/support/fixtures/', import.meta.url));
const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));
const fast = { backoff: { initialMs: 2, maxMs: 20 } };

test('resourceSpecs: kinds, paths and selectors', () => {
  assert.deepEqual(resourceSpecs({ watchPods: false, watchEndpoints: false }).map((s) => s.kind), ['Namespace', 'Service']);
  const all = resourceSpecs({ watchPods: true, watchEndpoints: true, labels: 'a=b' });
  assert.deepEqual(all.map((s) => [s.kind, s.path, s.labelSelector, s.fieldSelector]), [
    ['Namespace', '/api/v1/namespaces', undefined, undefined],
    ['Service', '/api/v1/services', 'a=b', undefined],
    ['EndpointSlice', '/apis/discovery.k8s.io/v1/endpointslices', 'a=b', undefined],
    ['Pod', '/api/v1/pods', 'a=b', POD_FIELD_SELECTOR],
  ]);
});

test('kubeconfig + token: every kind listed and watched, selectors sent to the server', async () => {
  const server = new FakeApiServer({ token: 'tok' });
  const { url } = await server.start();
  const dir = await makeTempDir();
  const web = { app: 'web' };
  for (const n of ['default', 'prod', 'kube-system']) server.create(namespaceObject(n));
  for (let i = 0; i < 3; i++) server.create(serviceObject('prod', `web${i}`, `10.0.0.${i + 1}`, { labels: web }));
  server.create(serviceObject('prod', 'db', '10.0.0.9', { labels: { app: 'db' } }));
  server.create(endpointSliceObject('prod', 'web0-a', 'web0', ['10.1.0.1', '10.1.0.2'], { labels: web }));
  server.create(endpointSliceObject('prod', 'db-a', 'db', ['10.1.0.9'], { labels: { app: 'db' } }));
  server.create(podObject('prod', 'web-run', '10.1.0.1', { labels: web }));
  server.create(podObject('prod', 'web-done', '10.1.0.3', { labels: web, phase: 'Succeeded' }));
  server.create(podObject('prod', 'db-run', '10.1.0.9', { labels: { app: 'db' } }));
  const logger = new RecordingLogger();
  const source = new KubernetesApiSource({
    kubeconfig: await writeKubeconfig(dir, { server: url, token: 'tok' }),
    labels: 'app=web', watchPods: true, watchEndpoints: true, logger, pageSize: 2, ...fast,
  });
  const sink = new RecordingSink();
  try {
    assert.deepEqual(source.kinds, ['Namespace', 'Service', 'EndpointSlice', 'Pod']);
    assert.equal(source.server, url);
    assert.equal(await source.waitForSync(0), false, 'not started');
    source.start(sink);
    assert.equal(await source.waitForSync(20_000), true);
    assert.deepEqual(sink.keys('Namespace'), ['default', 'kube-system', 'prod']);
    assert.deepEqual(sink.keys('Service'), ['prod/web0', 'prod/web1', 'prod/web2']);
    assert.deepEqual(sink.keys('EndpointSlice'), ['prod/web0-a']);
    assert.deepEqual(sink.keys('Pod'), ['prod/web-run']);
    assert.deepEqual([...sink.syncedKinds].sort(), ['EndpointSlice', 'Namespace', 'Pod', 'Service']);
    const q = (p: string): Record<string, string>[] => server.requestLog.filter((r) => r.path === p).map((r) => r.query);
    assert.ok(q('/api/v1/namespaces').every((x) => x.labelSelector === undefined));
    assert.ok(q('/api/v1/services').length >= 2 && q('/api/v1/services').every((x) => x.labelSelector === 'app=web'));
    assert.ok(q('/apis/discovery.k8s.io/v1/endpointslices').every((x) => x.labelSelector === 'app=web'));
    assert.ok(q('/api/v1/pods').every((x) => x.labelSelector === 'app=web' && x.fieldSelector === POD_FIELD_SELECTOR));
    assert.ok(server.requestLog.every((r) => r.authorization === 'Bearer tok'));

    await waitUntil(() => server.openWatches === 4);
    server.create(namespaceObject('new-ns'));
    server.delete('Namespace', '', 'kube-system');
    server.create(serviceObject('prod', 'web3', '10.0.0.4', { labels: web }));
    server.update(serviceObject('prod', 'web0', '10.0.0.1', { labels: { app: 'db' } })); // leaves the selector
    server.delete('Service', 'prod', 'web1');
    server.update(endpointSliceObject('prod', 'web0-a', 'web0', ['10.1.0.1'], { labels: web, ready: false }));
    server.create(endpointSliceObject('prod', 'web3-a', 'web3', ['10.1.0.4'], { labels: web }));
    server.create(podObject('prod', 'web-new', '10.1.0.4', { labels: web }));
    server.update(podObject('prod', 'web-run', '10.1.0.1', { labels: web, phase: 'Failed' })); // leaves the field selector
    await waitUntil(() => sink.has('Pod', 'prod/web-new') && !sink.has('Pod', 'prod/web-run') && sink.has('EndpointSlice', 'prod/web3-a'));
    await waitUntil(() => !sink.has('Service', 'prod/web1') && sink.size('Namespace') === 3);
    assert.deepEqual(sink.keys('Namespace'), ['default', 'new-ns', 'prod']);
    assert.deepEqual(sink.keys('Service'), ['prod/web2', 'prod/web3']);
    const slice = sink.get('EndpointSlice', 'prod/web0-a') as EndpointSliceRecord;
    assert.deepEqual(slice.endpoints.map((e) => [e.addresses, e.ready]), [[['10.1.0.1'], false]]);
    assert.equal((sink.get('Pod', 'prod/web-new') as PodRecord).ip, '10.1.0.4');
    assert.equal(source.connected, true);
    assert.ok(source.status().every((s) => s.synced && s.errors === 0 && s.lists === 1));
    assert.equal(logger.errors.length, 0);
  } finally {
    await source.stop();
    await server.stop();
    await removeDir(dir);
  }
});

test('kubeconfig context selection wins over endpoint; endpoint alone works without credentials', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  const dir = await makeTempDir();
  const logger = new RecordingLogger();
  const sink = new RecordingSink();
  server.create(namespaceObject('only'));
  // insecure-skip-tls-verify unset: plain-HTTP servers (kubectl proxy) must still work.
  const kubeconfig = await writeKubeconfig(dir, { server: 'http://127.0.0.1:1', otherServer: url, insecureSkipTLSVerify: false });
  const viaContext = new KubernetesApiSource({ kubeconfig, context: 'other', endpoint: 'http://127.0.0.1:1', watchPods: false, watchEndpoints: false, logger, ...fast });
  const viaEndpoint = new KubernetesApiSource({ endpoint: `${url}/`, watchPods: false, watchEndpoints: false, logger, ...fast });
  try {
    assert.equal(viaContext.server, url);
    viaContext.start(sink);
    assert.equal(await viaContext.waitForSync(20_000), true);
    assert.deepEqual(sink.keys('Namespace'), ['only']);
    const sink2 = new RecordingSink();
    viaEndpoint.start(sink2);
    assert.equal(await viaEndpoint.waitForSync(20_000), true);
    assert.deepEqual(sink2.keys('Namespace'), ['only']);
    assert.equal(server.requestLog.at(-1)?.authorization, null);
    assert.throws(() => resolveConnection({ kubeconfig, context: 'nope' }), /context "nope" not found/);
    assert.throws(() => resolveConnection({ endpoint: 'ftp://x' }), /scheme must be http or https/);
    assert.throws(() => resolveConnection({ env: {} }), /not running in a cluster/);
    assert.throws(() => resolveConnection({ kubeconfig: path.join(dir, 'missing') }), /ENOENT/);
  } finally {
    await viaContext.stop();
    await viaEndpoint.stop();
    await server.stop();
    await removeDir(dir);
  }
});

test('in-cluster config: env host/port, service-account token and CA over HTTPS', async () => {
  const server = new FakeApiServer({ token: 'sa-token', tls: { cert: fixture('server.crt'), key: fixture('server.key') } });
  const { url } = await server.start();
  const dir = await makeTempDir();
  await writeFile(path.join(dir, 'token'), 'sa-token');
  await copyFile(path.join(FIXTURES, 'ca.crt'), path.join(dir, 'ca.crt'));
  server.create(namespaceObject('default'));
  server.create(serviceObject('default', 'kubernetes', '10.96.0.1'));
  const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(url).port };
  const source = new KubernetesApiSource({ env, serviceAccountDir: dir, watchPods: false, watchEndpoints: false, logger: new RecordingLogger(), ...fast });
  const sink = new RecordingSink();
  const wrongDir = await makeTempDir();
  let wrong: KubernetesApiSource | undefined;
  try {
    assert.equal(source.server, url);
    source.start(sink);
    assert.equal(await source.waitForSync(20_000), true);
    assert.deepEqual(sink.keys('Service'), ['default/kubernetes']);
    assert.ok(server.requestLog.length > 0 && server.requestLog.every((r) => r.authorization === 'Bearer sa-token'));
    // The CA is really checked: a wrong one never syncs.
    await copyFile(path.join(FIXTURES, 'client.crt'), path.join(wrongDir, 'ca.crt'));
    await writeFile(path.join(wrongDir, 'token'), 'sa-token');
    wrong = new KubernetesApiSource({ env, serviceAccountDir: wrongDir, watchPods: false, watchEndpoints: false, logger: new RecordingLogger(), ...fast });
    wrong.start(new RecordingSink());
    await waitUntil(() => wrong!.status()[0]!.lastError !== null, { timeoutMs: 10_000, message: 'the first attempt failed' });
    assert.equal(wrong.synced, false);
    assert.match(wrong.status()[0]!.lastError ?? '', /certificate|verify/i);
  } finally {
    await wrong?.stop();
    await removeDir(wrongDir);
    await source.stop();
    await server.stop();
    await removeDir(dir);
  }
});

test('kubeconfig with CA and client certificate (paths relative to the file)', async () => {
  const server = new FakeApiServer({ tls: { cert: fixture('server.crt'), key: fixture('server.key'), ca: fixture('ca.crt'), requestCert: true } });
  const { url } = await server.start();
  const dir = await makeTempDir();
  for (const f of ['ca.crt', 'client.crt', 'client.key']) await copyFile(path.join(FIXTURES, f), path.join(dir, f));
  server.create(namespaceObject('secure'));
  const kubeconfig = await writeKubeconfig(dir, { server: url, caFile: 'ca.crt', certFile: 'client.crt', keyFile: 'client.key' });
  const source = new KubernetesApiSource({ kubeconfig, watchPods: false, watchEndpoints: false, logger: new RecordingLogger(), ...fast });
  const sink = new RecordingSink();
  try {
    source.start(sink);
    assert.equal(await source.waitForSync(20_000), true);
    assert.deepEqual(sink.keys('Namespace'), ['secure']);
    assert.ok(server.requestLog.every((r) => r.clientCertCN === 'clusterdns-test-client'));
  } finally {
    await source.stop();
    await server.stop();
    await removeDir(dir);
  }
});

test('waitForSync times out while the server is unreachable; errors are logged sparingly', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  await server.stop(); // nothing listens on this port now
  const logger = new RecordingLogger();
  // One error line per period for all kinds together; the period outlasts the test, so exactly one line may go out.
  const source = new KubernetesApiSource({ endpoint: url, watchPods: true, watchEndpoints: true, logger, backoff: { initialMs: 2, maxMs: 50 }, errorLogIntervalMs: 600_000 });
  try {
    source.start(new RecordingSink());
    assert.equal(await source.waitForSync(300), false);
    const statuses = source.status();
    assert.ok(statuses.every((s) => !s.synced && !s.connected && s.errors >= 2 && /ECONNREFUSED/.test(s.lastError ?? '')));
    const failures = statuses.reduce((n, s) => n + s.errors, 0);
    assert.equal(logger.errors.length, 1, `${logger.errors.length} lines for ${failures} failures of ${statuses.length} kinds`);
    assert.match(logger.errors[0]!, /failed: connect ECONNREFUSED \S+; retrying with backoff$/);
  } finally {
    await source.stop();
  }
});

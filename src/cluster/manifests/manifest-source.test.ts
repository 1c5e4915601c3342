/**
 * @module cluster/manifests/manifest-source.test
 * The manifest source: the shared source contract (files in a temp folder),
 * then what is particular to files: multi-document YAML and Lists, legacy
 * Endpoints, implicit namespaces, bad documents reported and skipped, edits
 * picked up by the watcher and by the poll, a vanished folder keeping the data.
 */
import assert from 'node:assert/strict';
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { memoryLogger } from '../../log/logger.ts';
import { ClusterStore } from '../store.ts';
import type { ClusterKind } from '../types.ts';
import { clusterSourceContract } from '../../../test/support/cluster-source-contract.ts';
import type { KubeObject } from '../../../test/support/fake-apiserver.ts';
import { makeTempDir, removeDir } from '../../../test/support/kubeconfig.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import { ManifestSource } from './manifest-source.ts';

function fileOf(dir: string, kind: string, namespace: string, name: string): string {
  return join(dir, `${kind}-${namespace || '_'}-${name}.yaml`.toLowerCase());
}

clusterSourceContract('ManifestSource', () => {
  let dir = '';
  const write = async (o: KubeObject): Promise<void> => {
    await writeFile(fileOf(dir, o.kind, o.metadata.namespace ?? '', o.metadata.name), stringify(o));
  };
  return {
    async create(initial) {
      dir = await makeTempDir('clusterdns-manifests-');
      for (const o of initial) await write(o);
      return new ManifestSource({ paths: [dir], logger: memoryLogger(), debounceMs: 20, pollIntervalMs: 200 });
    },
    async upsert(objects) {
      for (const o of objects) await write(o);
    },
    async remove(kind: ClusterKind, namespace, name) {
      await unlink(fileOf(dir, kind, kind === 'Namespace' ? '' : namespace, name));
    },
    witness: () => new ManifestSource({ paths: [dir], logger: memoryLogger(), debounceMs: 20, pollIntervalMs: 200 }),
    async cleanup() {
      await removeDir(dir);
    },
  };
});

const SERVICE_AND_SLICE = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.0.20
  ports: [{name: http, port: 80}]
---
# a comment-only document follows
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
- addresses: [10.1.1.1]
ports: [{name: http, port: 8080, protocol: TCP}]
`;

const LIST = JSON.stringify({
  apiVersion: 'v1',
  kind: 'List',
  items: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'listed', labels: { env: 'prod' } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'listed' }, spec: { clusterIP: '10.96.0.30' } },
  ],
});

const LEGACY = `
apiVersion: v1
kind: Service
metadata: {name: old, namespace: shop}
spec: {clusterIP: None}
---
apiVersion: v1
kind: Endpoints
metadata: {name: old, namespace: shop}
subsets:
- addresses: [{ip: 10.2.0.1, hostname: old-0}, {ip: "fd00::1"}]
  notReadyAddresses: [{ip: 10.2.0.2}]
  ports: [{name: redis, port: 6379}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: shop}
subsets:
- addresses: [{ip: 10.9.9.9}]
`;

const BAD = `
apiVersion: v1
kind: Service
metadata: {name: broken-ip, namespace: shop}
spec: {clusterIP: 10.96.0.999}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {namespace: shop}
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: beta, namespace: shop}
---
kind: Service
metadata: {name: ok-after-bad, namespace: shop}
spec: {clusterIP: 10.96.0.40}
---
key: [unclosed
`;

describe('ManifestSource: reading', () => {
  let dir: string;
  let store: ClusterStore;
  let source: ManifestSource;
  const logger = memoryLogger();

  before(async () => {
    dir = await makeTempDir('clusterdns-manifests-');
    await mkdir(join(dir, 'nested', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'shop.yaml'), SERVICE_AND_SLICE);
    await writeFile(join(dir, 'nested', 'list.json'), LIST);
    await writeFile(join(dir, 'nested', 'deeper', 'legacy.yml'), LEGACY);
    await writeFile(join(dir, 'nested', 'bad.yaml'), BAD);
    await writeFile(join(dir, 'notes.txt'), 'kind: Service\nmetadata: {name: ignored}\n');
    await writeFile(join(dir, '.hidden.yaml'), 'kind: Service\nmetadata: {name: hidden}\n');
    store = new ClusterStore();
    source = new ManifestSource({ paths: [dir], logger, watch: false });
    source.start(store);
    assert.equal(await source.waitForSync(5000), true);
  });

  after(async () => {
    await source.stop();
    await removeDir(dir);
  });

  it('reads multi-document YAML, JSON Lists and nested folders', () => {
    assert.deepEqual(store.service('shop', 'web')?.clusterIPs, ['10.96.0.20']);
    assert.equal(store.slicesOfService('shop', 'web').length, 1);
    assert.deepEqual(store.service('listed', 'api')?.clusterIPs, ['10.96.0.30']);
    assert.equal(store.service('default', 'ignored'), undefined, 'only *.yaml, *.yml, *.json');
    assert.equal(store.service('default', 'hidden'), undefined, 'hidden files are skipped');
  });

  it('declares the namespaces objects live in, and adds the metadata.name label', () => {
    assert.deepEqual(store.namespace('shop')?.labels, { 'kubernetes.io/metadata.name': 'shop' });
    assert.deepEqual(store.namespace('listed')?.labels, { env: 'prod', 'kubernetes.io/metadata.name': 'listed' });
    assert.equal(store.count('Namespace'), 2);
  });

  it('mirrors legacy Endpoints into slices, only for services without EndpointSlices', () => {
    const slices = store.slicesOfService('shop', 'old');
    assert.deepEqual(slices.map((s) => [s.name, s.addressType]), [['old-endpoints-0-ipv4', 'IPv4'], ['old-endpoints-0-ipv6', 'IPv6']]);
    const v4 = slices[0]!.endpoints.map((e) => [e.addresses[0], e.ready, e.hostname]);
    assert.deepEqual(v4, [['10.2.0.1', true, 'old-0'], ['10.2.0.2', false, null]]);
    assert.deepEqual(slices[0]!.ports, [{ name: 'redis', port: 6379, protocol: 'tcp' }]);
    assert.deepEqual(store.slicesOfService('shop', 'web').map((s) => s.name), ['web-1'], 'real slice wins over Endpoints');
  });

  it('reports bad documents as FILE:LINE: KIND NS/NAME: problem and keeps the rest; a syntax error is an ERROR', () => {
    const bad = join(dir, 'nested', 'bad.yaml');
    const warnings = logger.lines.filter((l) => l.startsWith('[WARNING]'));
    assert.deepEqual(warnings, [
      `[WARNING] ${bad}:2: Service shop/broken-ip: invalid clusterIP "10.96.0.999"`,
      `[WARNING] ${bad}:7: Deployment shop/web: unsupported kind (want Namespace, Service, EndpointSlice, Endpoints or Pod)`,
      `[WARNING] ${bad}:11: Service shop/<unnamed>: missing metadata.name`,
      `[WARNING] ${bad}:15: EndpointSlice shop/beta: unsupported apiVersion "discovery.k8s.io/v1beta1" (want discovery.k8s.io/v1)`,
    ]);
    const errors = logger.lines.filter((l) => l.startsWith('[ERROR]'));
    assert.deepEqual(errors, [
      `[ERROR] ${bad}:24: Flow sequence in block collection must be sufficiently indented and end with a ]; using the 1 objects of the documents that parse`,
    ]);
    assert.deepEqual(store.service('shop', 'ok-after-bad')?.clusterIPs, ['10.96.0.40']);
    assert.equal(store.service('shop', 'broken-ip'), undefined);
  });
});

describe('ManifestSource: watching', () => {
  let dir: string;
  let store: ClusterStore;
  let source: ManifestSource;
  const logger = memoryLogger();
  const svc = (ip: string): string => `kind: Service\napiVersion: v1\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: ${ip}}\n`;

  before(async () => {
    dir = await makeTempDir('clusterdns-manifests-');
    await writeFile(join(dir, 'web.yaml'), svc('10.96.0.1'));
    store = new ClusterStore();
    source = new ManifestSource({ paths: [dir], logger, debounceMs: 20, pollIntervalMs: 0 });
    source.start(store);
    assert.equal(await source.waitForSync(5000), true);
  });

  after(async () => {
    await source.stop();
    await removeDir(dir);
  });

  it('picks up an edit in place', async () => {
    await writeFile(join(dir, 'web.yaml'), svc('10.96.0.2'));
    await waitUntil(() => store.service('shop', 'web')?.clusterIPs[0] === '10.96.0.2', { timeoutMs: 5000 });
  });

  it('picks up an atomic replace (write a temp file, rename over)', async () => {
    await writeFile(join(dir, '.web.yaml.tmp'), svc('10.96.0.3'));
    await rename(join(dir, '.web.yaml.tmp'), join(dir, 'web.yaml'));
    await waitUntil(() => store.service('shop', 'web')?.clusterIPs[0] === '10.96.0.3', { timeoutMs: 5000 });
  });

  it('applies a re-read as one batch; a document that fails validation keeps its previous version', async () => {
    const doc = (ip: string): string => `kind: Service\nmetadata: {name: other, namespace: shop}\nspec: {clusterIP: ${ip}}\n`;
    await writeFile(join(dir, 'other.yaml'), doc('10.96.0.9') + '---\n' + doc('10.96.0.9').replace('other', 'second'));
    await waitUntil(() => store.service('shop', 'second') !== undefined, { timeoutMs: 5000 });
    const batches: number[] = [];
    const off = store.subscribe((c) => batches.push(c.length));
    await writeFile(join(dir, 'other.yaml'), doc('10.96.0.9') + '---\n' + doc('10.96.0.10').replace('other', 'second'));
    await waitUntil(() => store.service('shop', 'second')?.clusterIPs[0] === '10.96.0.10', { timeoutMs: 5000 });
    assert.deepEqual(batches, [1]);
    const loads = source.loads;
    await writeFile(join(dir, 'other.yaml'), doc('nope') + '---\n' + doc('10.96.0.11').replace('other', 'second'));
    await waitUntil(() => source.loads > loads && store.service('shop', 'second')?.clusterIPs[0] === '10.96.0.11', { timeoutMs: 5000 });
    off();
    assert.deepEqual(store.service('shop', 'other')?.clusterIPs, ['10.96.0.9'], 'the invalid document keeps its previous version');
    assert.ok(store.service('shop', 'web'), 'other files untouched');
    assert.ok(logger.lines.some((l) => l.includes('other.yaml:1: Service shop/other: invalid clusterIP "nope"')));
    assert.ok(logger.lines.some((l) => l.includes('other.yaml:1: Service shop/other: keeping its previous version')));
  });

  it('a file edited into garbage keeps every object it held (one ERROR with FILE:LINE, a count); fixing it serves the fix', async () => {
    const errors: string[] = [];
    const own = await makeTempDir('clusterdns-manifests-');
    const file = join(own, 'garbage.yaml');
    const counted = new ManifestSource({ paths: [file], logger, debounceMs: 20, pollIntervalMs: 0, onFileError: (f) => errors.push(f) });
    const store = new ClusterStore();
    await writeFile(file, svc('10.96.0.5').replace('web', 'g1') + '---\n' + svc('10.96.0.6').replace('web', 'g2'));
    counted.start(store);
    try {
      assert.equal(await counted.waitForSync(5000), true);
      const removed: string[] = [];
      const off = store.subscribe((cs) => { for (const c of cs) if (c.current === null) removed.push(c.key); });
      for (const garbage of ['kind: Service\nmetadata: {name: g1\n  : [\n', '']) {
        const loads = counted.loads;
        await writeFile(file, garbage);
        await counted.reload();
        assert.ok(counted.loads > loads);
      }
      assert.deepEqual(removed, []);
      assert.deepEqual([store.service('shop', 'g1')?.clusterIPs, store.service('shop', 'g2')?.clusterIPs], [['10.96.0.5'], ['10.96.0.6']]);
      assert.equal(counted.synced, true);
      assert.deepEqual(errors, [file, file]);
      assert.ok(logger.lines.some((l) => l.startsWith(`[ERROR] ${file}:`) && l.endsWith('keeping the 2 objects read from it before')), logger.lines.join('\n'));
      assert.ok(logger.lines.some((l) => l === `[ERROR] ${file}:1: file is empty; keeping the 2 objects read from it before (delete the file to remove them)`));
      await writeFile(file, svc('10.96.0.7').replace('web', 'g1'));
      await counted.reload();
      off();
      assert.deepEqual(store.service('shop', 'g1')?.clusterIPs, ['10.96.0.7']);
      assert.equal(store.service('shop', 'g2'), undefined, 'the fixed file says g2 is gone');
    } finally {
      await counted.stop();
      await removeDir(own);
    }
  });

  it('keeps the last data when a watched folder disappears', async () => {
    const removed: string[] = [];
    const off = store.subscribe((cs) => { for (const c of cs) if (c.current === null) removed.push(c.key); });
    await rm(dir, { recursive: true, force: true });
    await source.reload();
    off();
    assert.deepEqual(removed, [], 'nothing was removed');
    assert.ok(store.service('shop', 'web'));
    assert.ok(logger.lines.some((l) => l.includes('no such file or directory; keeping the objects read before')));
    await mkdir(dir, { recursive: true });
  });
});

describe('ManifestSource: poll fallback', () => {
  it('notices a change without fs.watch through the mtime poll', async () => {
    const dir = await makeTempDir('clusterdns-manifests-');
    const file = join(dir, 'one.yaml');
    await writeFile(file, 'kind: Namespace\nmetadata: {name: a}\n');
    const store = new ClusterStore();
    const source = new ManifestSource({ paths: [file], logger: memoryLogger(), fsWatch: false, debounceMs: 10, pollIntervalMs: 50 });
    try {
      source.start(store);
      assert.equal(await source.waitForSync(5000), true);
      await writeFile(file, 'kind: Namespace\nmetadata: {name: b}\n');
      await waitUntil(() => store.namespace('b') !== undefined && store.namespace('a') === undefined, { timeoutMs: 5000 });
    } finally {
      await source.stop();
      await removeDir(dir);
    }
  });
});

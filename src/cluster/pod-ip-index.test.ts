/**
 * @module cluster/pod-ip-index.test
 * The pod-IP → namespace index: only Running pods count, the newest claim on
 * an address wins, a finished/deleted/terminating pod gives its address up
 * at once unless a newer pod holds it, late news of an older pod changes
 * nothing, relists replace everything; and the sink in front of the store.
 * Then the same through the live API source (the fake API server's
 * list/watch) with `pods insecure`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodIpIndex, PodIpIndexSink } from './pod-ip-index.ts';
import type { ClusterKind, ClusterRecord, ClusterStateSink, PodRecord, WatchEvent } from './types.ts';
import { FakeApiServer } from '../../test/support/fake-apiserver.ts';
import { namespaceObject, podObject, serviceObject } from '../../test/support/fake-objects.ts';
import { dig, startServer } from '../../test/support/harness.ts';
import { waitUntil } from '../../test/support/wait-until.ts';
import type { KubernetesHandler } from '../plugins/kubernetes/handler.ts';

function rec(namespace: string, name: string, ips: string[], phase = 'Running', rv?: string, deleting = false): PodRecord {
  return {
    kind: 'Pod', namespace, name, ip: ips[0] ?? null, ips, phase, deleting, hostname: null, subdomain: null, labels: {},
    ...(rv === undefined ? {} : { resourceVersion: rv }),
  };
}

const ev = (type: WatchEvent['type'], object: PodRecord): WatchEvent => ({ type, object });

test('only Running pods count; dual-stack; IPv4-mapped client addresses', () => {
  const idx = new PodIpIndex();
  idx.apply(ev('ADDED', rec('shop', 'web', ['10.1.0.1', 'fd00::1'], 'Pending', '1')));
  assert.equal(idx.namespaceOf('10.1.0.1'), null, 'Pending does not count');
  idx.apply(ev('MODIFIED', rec('shop', 'web', ['10.1.0.1', 'fd00::1'], 'Running', '2')));
  assert.equal(idx.namespaceOf('10.1.0.1'), 'shop');
  assert.equal(idx.namespaceOf('::ffff:10.1.0.1'), 'shop');
  assert.equal(idx.namespaceOf('fd00::1'), 'shop');
  assert.equal(idx.namespaceOf('10.1.0.2'), null);
  assert.equal(idx.size, 2);
});

test('IP reuse: newest claim wins, finished pods give the address up at once, late news of the old pod changes nothing', () => {
  const idx = new PodIpIndex();
  idx.apply(ev('ADDED', rec('ops', 'old', ['10.1.0.5'], 'Running', '100')));
  // The new pod got the address before the old one's end reached us.
  idx.apply(ev('ADDED', rec('shop', 'new', ['10.1.0.5'], 'Running', '200')));
  assert.equal(idx.namespaceOf('10.1.0.5'), 'shop');
  // A stale update of the old pod (lower version) does not take it back ...
  idx.apply(ev('MODIFIED', rec('ops', 'old', ['10.1.0.5'], 'Running', '150')));
  assert.equal(idx.namespaceOf('10.1.0.5'), 'shop');
  // ... and its end does not remove the new pod's claim.
  idx.apply(ev('MODIFIED', rec('ops', 'old', ['10.1.0.5'], 'Succeeded', '210')));
  idx.apply(ev('DELETED', rec('ops', 'old', ['10.1.0.5'], 'Succeeded', '220')));
  assert.equal(idx.namespaceOf('10.1.0.5'), 'shop');
  // The holder finishing drops the address at once, for every phase that is not Running/Pending and for terminating pods.
  for (const [phase, deleting] of [['Succeeded', false], ['Failed', false], ['Unknown', false], ['Running', true]] as const) {
    idx.apply(ev('ADDED', rec('shop', 'new', ['10.1.0.5'], 'Running', '300')));
    assert.equal(idx.namespaceOf('10.1.0.5'), 'shop');
    idx.apply(ev('MODIFIED', rec('shop', 'new', ['10.1.0.5'], phase, '301', deleting)));
    assert.equal(idx.namespaceOf('10.1.0.5'), null, `${phase}${deleting ? ' (terminating)' : ''}`);
  }
  assert.equal(idx.size, 0);
  // Manifests have no resourceVersion: the later arrival wins.
  idx.apply(ev('ADDED', rec('a', 'p', ['10.1.0.6'])));
  idx.apply(ev('ADDED', rec('b', 'q', ['10.1.0.6'])));
  assert.equal(idx.namespaceOf('10.1.0.6'), 'b');
});

test('a relist replaces every claim; freed slots are reused', () => {
  const idx = new PodIpIndex();
  for (let i = 0; i < 3000; i++) idx.apply(ev('ADDED', rec(`ns${i % 7}`, `p${i}`, [`10.2.${i >> 8}.${i & 255}`])));
  assert.equal(idx.size, 3000);
  assert.equal(idx.namespaceOf('10.2.11.183'), `ns${2999 % 7}`);
  idx.replace([rec('x', 'only', ['10.9.9.9'])]);
  assert.equal(idx.size, 1);
  assert.equal(idx.namespaceOf('10.2.0.1'), null);
  assert.equal(idx.namespaceOf('10.9.9.9'), 'x');
});

test('the sink keeps Pods from the store unless it answers for them (pods verified)', () => {
  const seen: string[] = [];
  const inner: ClusterStateSink = {
    apply: (e) => { seen.push(`apply ${e.object.kind}`); },
    replace: (kinds: readonly ClusterKind[], objects: readonly ClusterRecord[]) => { seen.push(`replace ${kinds.join(',')} ${objects.length}`); },
    markSynced: (k) => { seen.push(`synced ${k}`); },
  };
  const idx = new PodIpIndex();
  const ns: ClusterRecord = { kind: 'Namespace', name: 'shop', labels: {} };
  const only = new PodIpIndexSink(inner, idx, false);
  only.apply(ev('ADDED', rec('shop', 'a', ['10.3.0.1'])));
  only.apply({ type: 'ADDED', object: ns });
  only.replace(['Pod'], [rec('shop', 'b', ['10.3.0.2'])]);
  only.replace(['Namespace', 'Pod'], [ns, rec('shop', 'c', ['10.3.0.3'])]);
  only.markSynced('Pod');
  assert.deepEqual(seen, ['apply Namespace', 'replace Namespace 1', 'synced Pod']);
  assert.equal(idx.namespaceOf('10.3.0.3'), 'shop');
  assert.equal(idx.namespaceOf('10.3.0.1'), null, 'replaced by the relist');
  assert.ok(idx.synced);
  seen.length = 0;
  const both = new PodIpIndexSink(inner, new PodIpIndex(), true);
  both.apply(ev('ADDED', rec('shop', 'a', ['10.3.0.1'])));
  both.replace(['Pod'], [rec('shop', 'b', ['10.3.0.2'])]);
  assert.deepEqual(seen, ['apply Pod', 'replace Pod 1']);
});

test('live API with pods insecure: the index follows the watch; a finished pod stops autopath, a new owner of the address gets it', async () => {
  const api = new FakeApiServer();
  const { url } = await api.start();
  for (const n of ['shop', 'ops']) api.create(namespaceObject(n));
  api.create(serviceObject('ops', 'db', '10.96.2.2'));
  api.create(podObject('shop', 'web', '127.0.0.6'));
  const srv = await startServer(`.:0 {\n  bind 127.0.0.1\n  autopath @kubernetes\n  kubernetes cluster.local {\n    endpoint ${url}\n    pods insecure\n  }\n}\n`);
  try {
    const k8s = srv.app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'kubernetes') as KubernetesHandler;
    const idx = k8s.podIps!;
    await waitUntil(() => idx.namespaceOf('127.0.0.6') === 'shop', { timeoutMs: 10_000, message: 'pod never indexed' });
    assert.equal(k8s.index.store.count('Pod'), 0, 'pods insecure: the store keeps no Pod records');
    const types = async (name: string): Promise<string[]> => (await dig(srv.port, '-b', '127.0.0.6', name, 'A')).answer.map((r) => r.type);
    assert.deepEqual(await types('db.ops.shop.svc.cluster.local'), ['CNAME', 'A'], 'the shop pod\'s walk');

    api.update(podObject('shop', 'web', '127.0.0.6', { phase: 'Succeeded' }));
    await waitUntil(() => idx.namespaceOf('127.0.0.6') === null, { timeoutMs: 10_000, message: 'finished pod still indexed' });
    assert.deepEqual(await types('db.ops.shop.svc.cluster.local'), [], 'no walk for a finished pod\'s address');
    api.create(podObject('ops', 'next', '127.0.0.6'));
    await waitUntil(() => idx.namespaceOf('127.0.0.6') === 'ops', { timeoutMs: 10_000, message: 'new owner not indexed' });
    assert.deepEqual(await types('db.ops.ops.svc.cluster.local'), ['CNAME', 'A'], 'the ops pod\'s walk');
    assert.deepEqual(await types('db.ops.shop.svc.cluster.local'), [], 'not the shop path any more');
  } finally {
    await srv.stop();
    await api.stop();
  }
});

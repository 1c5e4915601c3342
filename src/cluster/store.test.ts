/**
 * @module cluster/store.test
 * The store: incremental apply, atomic replace with a real diff (unchanged
 * objects keep their identity and produce no change), sync tracking, the
 * secondary indexes (slices by service, pods by IP), the label filter sink,
 * and that listeners see a whole batch after it is applied.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabelFilteredSink } from './filtered-sink.ts';
import { parseLabelSelector } from './label-selector.ts';
import { ClusterStore } from './store.ts';
import type { EndpointSliceRecord, NamespaceRecord, PodRecord, ServiceRecord, StoreChange } from './types.ts';

function ns(name: string, labels: Record<string, string> = {}): NamespaceRecord {
  return { kind: 'Namespace', name, labels };
}
function svc(namespace: string, name: string, ip: string, labels: Record<string, string> = {}): ServiceRecord {
  return {
    kind: 'Service', namespace, name, type: 'ClusterIP', clusterIPs: [ip], headless: false, externalName: null,
    ports: [{ name: 'http', port: 80, protocol: 'tcp' }], publishNotReadyAddresses: false, labels,
  };
}
function slice(namespace: string, name: string, service: string, ips: string[]): EndpointSliceRecord {
  return {
    kind: 'EndpointSlice', namespace, name, serviceName: service, addressType: 'IPv4', ports: [], labels: {},
    endpoints: ips.map((ip) => ({
      addresses: [ip], ready: true, serving: true, terminating: false, hostname: null, nodeName: null, zone: null, targetRef: null,
    })),
  };
}
function pod(namespace: string, name: string, ip: string): PodRecord {
  return { kind: 'Pod', namespace, name, ip, ips: [ip], phase: 'Running', deleting: false, hostname: null, subdomain: null, labels: {} };
}

const summary = (cs: readonly StoreChange[]): string[] =>
  cs.map((c) => `${c.previous === null ? 'add' : c.current === null ? 'del' : 'mod'} ${c.kind} ${c.key}`);

describe('ClusterStore', () => {
  it('applies adds, updates and deletes and tells listeners', () => {
    const store = new ClusterStore();
    const seen: string[][] = [];
    store.subscribe((c) => seen.push(summary(c)));
    store.apply({ type: 'ADDED', object: ns('a') });
    store.apply({ type: 'ADDED', object: svc('a', 'web', '10.0.0.1') });
    store.apply({ type: 'MODIFIED', object: svc('a', 'web', '10.0.0.2') });
    store.apply({ type: 'MODIFIED', object: svc('a', 'web', '10.0.0.2') }); // no change: no batch
    store.apply({ type: 'DELETED', object: svc('a', 'web', '10.0.0.2') });
    store.apply({ type: 'DELETED', object: svc('a', 'gone', '10.0.0.3') }); // unknown: no batch
    assert.deepEqual(seen, [['add Namespace a'], ['add Service a/web'], ['mod Service a/web'], ['del Service a/web']]);
    assert.equal(store.service('a', 'web'), undefined);
    assert.equal(store.count('Service'), 0);
  });

  it('replace diffs: keeps identical objects (same identity), reports only real changes, removes the missing', () => {
    const store = new ClusterStore();
    store.replace(['Namespace', 'Service'], [ns('a'), svc('a', 'web', '10.0.0.1'), svc('a', 'db', '10.0.0.2'), svc('a', 'old', '10.0.0.3')]);
    const web = store.service('a', 'web');
    const seen: string[][] = [];
    store.subscribe((c) => seen.push(summary(c)));
    store.replace(['Namespace', 'Service'], [ns('a'), svc('a', 'web', '10.0.0.1'), svc('a', 'db', '10.0.0.9'), svc('a', 'new', '10.0.0.4')]);
    assert.deepEqual(seen, [['mod Service a/db', 'add Service a/new', 'del Service a/old']]);
    assert.equal(store.service('a', 'web'), web, 'the equal record held was not replaced by the new copy');
    assert.equal(store.count('Service'), 3);
  });

  it('replace only touches the kinds it names', () => {
    const store = new ClusterStore();
    store.replace(['Namespace', 'Service'], [ns('a'), svc('a', 'web', '10.0.0.1')]);
    store.replace(['Namespace'], [ns('b')]);
    assert.equal(store.namespace('a'), undefined);
    assert.ok(store.namespace('b'));
    assert.ok(store.service('a', 'web'));
  });

  it('tracks sync per kind', () => {
    const store = new ClusterStore();
    assert.equal(store.synced(['Namespace', 'Service']), false);
    store.markSynced('Namespace');
    assert.equal(store.synced(['Namespace', 'Service']), false);
    store.markSynced('Service');
    assert.equal(store.synced(['Namespace', 'Service']), true);
    assert.equal(store.synced([]), true);
  });

  it('indexes slices by service, sorted by name, and follows relabels and deletes', () => {
    const store = new ClusterStore();
    store.apply({ type: 'ADDED', object: slice('a', 'web-b', 'web', ['10.1.0.2']) });
    store.apply({ type: 'ADDED', object: slice('a', 'web-a', 'web', ['10.1.0.1']) });
    store.apply({ type: 'ADDED', object: slice('b', 'web-c', 'web', ['10.1.0.3']) });
    assert.deepEqual(store.slicesOfService('a', 'web').map((s) => s.name), ['web-a', 'web-b']);
    store.apply({ type: 'MODIFIED', object: slice('a', 'web-b', 'api', ['10.1.0.2']) });
    assert.deepEqual(store.slicesOfService('a', 'web').map((s) => s.name), ['web-a']);
    assert.deepEqual(store.slicesOfService('a', 'api').map((s) => s.name), ['web-b']);
    store.apply({ type: 'DELETED', object: slice('a', 'web-a', 'web', []) });
    assert.deepEqual(store.slicesOfService('a', 'web'), []);
    assert.deepEqual(store.slicesOfService('b', 'web').map((s) => s.name), ['web-c']);
  });

  it('indexes pods by every IP, several pods per IP', () => {
    const store = new ClusterStore();
    store.apply({ type: 'ADDED', object: pod('a', 'p1', '10.2.0.1') });
    store.apply({ type: 'ADDED', object: pod('b', 'p2', '10.2.0.1') });
    store.apply({ type: 'ADDED', object: { ...pod('a', 'dual', '10.2.0.5'), ips: ['10.2.0.5', 'fd00::5'] } });
    assert.deepEqual(store.podsWithIp('10.2.0.1').map((p) => p.name), ['p1', 'p2']);
    assert.deepEqual(store.podsWithIp('fd00::5').map((p) => p.name), ['dual']);
    store.apply({ type: 'MODIFIED', object: pod('a', 'p1', '10.2.0.9') });
    assert.deepEqual(store.podsWithIp('10.2.0.1').map((p) => p.name), ['p2']);
    assert.deepEqual(store.podsWithIp('10.2.0.9').map((p) => p.name), ['p1']);
    store.apply({ type: 'DELETED', object: pod('b', 'p2', '10.2.0.1') });
    assert.deepEqual(store.podsWithIp('10.2.0.1'), []);
  });

  it('stores compact copies that keep every field', () => {
    const store = new ClusterStore();
    const input: EndpointSliceRecord = {
      ...slice('a', 's1', 'web', ['10.1.0.1']),
      labels: { 'kubernetes.io/service-name': 'web', tier: 'x' },
      endpoints: [{ addresses: ['10.1.0.1'], ready: false, serving: true, terminating: true, hostname: 'h', nodeName: 'node-1', zone: 'z1', targetRef: { kind: 'Pod', name: 'p', namespace: 'a' } }],
    };
    store.apply({ type: 'ADDED', object: input });
    assert.deepEqual(store.slice('a', 's1'), { ...input, triggerTime: null });
    const p = { ...pod('a', 'p', '10.2.0.1'), labels: { app: 'x' }, subdomain: 'sub' };
    store.apply({ type: 'ADDED', object: p });
    assert.deepEqual(store.pod('a', 'p'), p);
  });

  it('listeners run after the whole batch is applied', () => {
    const store = new ClusterStore();
    let observed = -1;
    store.subscribe(() => { observed = store.count('Service'); });
    store.replace(['Service'], [svc('a', 'x', '10.0.0.1'), svc('a', 'y', '10.0.0.2'), svc('a', 'z', '10.0.0.3')]);
    assert.equal(observed, 3);
  });

  it('a throwing listener does not stop the others', () => {
    const errors: unknown[] = [];
    const store = new ClusterStore({ onListenerError: (e) => errors.push(e) });
    let second = 0;
    store.subscribe(() => { throw new Error('boom'); });
    store.subscribe(() => { second++; });
    store.apply({ type: 'ADDED', object: ns('a') });
    assert.equal(second, 1);
    assert.equal(errors.length, 1);
  });
});

describe('LabelFilteredSink', () => {
  it('drops objects that do not match, keeps namespaces, and turns a relabel into a delete', () => {
    const store = new ClusterStore();
    const sink = new LabelFilteredSink(store, parseLabelSelector('dns=on'));
    sink.replace(['Namespace', 'Service'], [ns('a'), svc('a', 'yes', '10.0.0.1', { dns: 'on' }), svc('a', 'no', '10.0.0.2')]);
    assert.ok(store.namespace('a'));
    assert.ok(store.service('a', 'yes'));
    assert.equal(store.service('a', 'no'), undefined);
    sink.apply({ type: 'MODIFIED', object: svc('a', 'yes', '10.0.0.1', { dns: 'off' }) });
    assert.equal(store.service('a', 'yes'), undefined);
    sink.markSynced('Service');
    assert.equal(store.isSynced('Service'), true);
  });
});

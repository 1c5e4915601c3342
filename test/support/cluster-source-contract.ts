/**
 * @module test/support/cluster-source-contract
 * The contract every ClusterStateSource passes (manifest folder, live API,
 * fixtures): it delivers the initial objects of each of its kinds and marks
 * them synced, converts them to the same slim records, and reflects creates,
 * updates and deletes made afterwards; an unchanged object produces no store
 * change; after stop() nothing more arrives. A source's test file calls
 * `clusterSourceContract(name, makeFixture)` with a fixture that drives its
 * backing store (files on disk, a fake API server).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterStore } from '../../src/cluster/store.ts';
import type { ClusterKind, ClusterStateSource, ServiceRecord, StoreChange } from '../../src/cluster/types.ts';
import type { KubeObject } from './fake-apiserver.ts';
import { endpointSliceObject, namespaceObject, podObject, serviceObject } from './fake-objects.ts';
import { waitUntil } from './wait-until.ts';

export interface SourceFixture {
  /** A source (not started) over a backing store holding `initial`. */
  create(initial: readonly KubeObject[]): Promise<ClusterStateSource>;
  /** Create or replace these objects in the backing store. */
  upsert(objects: readonly KubeObject[]): Promise<void>;
  /** Delete one object from the backing store. */
  remove(kind: ClusterKind, namespace: string, name: string): Promise<void>;
  /**
   * Another source (not started) over the same backing store: the witness that a
   * change made after stop() was delivered to a running source, so the stopped one
   * provably had its chance to (an event, not a sleep, proves the absence).
   */
  witness(): ClusterStateSource;
  /** Release what the fixture holds (temp folders, servers). */
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Longest wait for a change to arrive (default 5000 ms). */
  readonly timeoutMs?: number;
}

function initialObjects(): KubeObject[] {
  return [
    namespaceObject('alpha', { team: 'a' }),
    namespaceObject('beta'),
    serviceObject('alpha', 'web', '10.96.1.1', { spec: { ports: [{ name: 'HTTP', port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] } }),
    serviceObject('alpha', 'db', 'None'),
    serviceObject('beta', 'dual', '10.96.2.2', { spec: { clusterIPs: ['10.96.2.2', 'fd00::0:22'], ipFamilies: ['IPv4', 'IPv6'] } }),
    serviceObject('beta', 'ext', '', { spec: { type: 'ExternalName', externalName: 'Example.COM', clusterIP: undefined, clusterIPs: undefined, ports: [] } }),
    endpointSliceObject('alpha', 'web-abc', 'web', ['10.1.0.1', '10.1.0.2']),
    endpointSliceObject('alpha', 'db-xyz', 'db', ['10.1.0.3'], { ready: false }),
    podObject('alpha', 'web-0', '10.1.0.1'),
  ];
}

/** Runs the contract against sources made by `makeFixture` (one fixture per test). */
export function clusterSourceContract(name: string, makeFixture: () => SourceFixture, options: ContractOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? 5000;

  describe(`ClusterStateSource contract: ${name}`, () => {
    let fixture: SourceFixture;
    let source: ClusterStateSource;
    let store: ClusterStore;
    let batches: (readonly StoreChange[])[];

    before(async () => {
      fixture = makeFixture();
      source = await fixture.create(initialObjects());
      store = new ClusterStore();
      batches = [];
      store.subscribe((c) => { batches.push(c); });
      source.start(store);
      await waitUntil(() => store.synced(source.kinds), { timeoutMs, message: `${name} did not sync` });
    });

    after(async () => {
      await source.stop();
      await fixture.cleanup();
    });

    it('delivers every kind it declares and marks each synced', () => {
      for (const k of ['Namespace', 'Service'] as const) assert.ok(source.kinds.includes(k), `kinds lack ${k}`);
      for (const k of source.kinds) assert.ok(store.isSynced(k), `${k} not synced`);
      assert.ok(store.namespace('alpha'));
      assert.deepEqual(store.namespace('alpha')!.labels.team, 'a');
      assert.ok(store.namespace('beta'));
      assert.equal(store.count('Service'), 4);
      if (source.kinds.includes('EndpointSlice')) assert.equal(store.count('EndpointSlice'), 2);
      if (source.kinds.includes('Pod')) assert.ok(store.pod('alpha', 'web-0'));
    });

    it('converts to the slim records (ports, protocols, families, headless, ExternalName)', () => {
      const web = store.service('alpha', 'web')!;
      assert.deepEqual(web.clusterIPs, ['10.96.1.1']);
      assert.equal(web.headless, false);
      assert.deepEqual(web.ports, [{ name: 'HTTP', port: 80, protocol: 'tcp' }, { name: '', port: 53, protocol: 'udp' }]);
      assert.equal(store.service('alpha', 'db')!.headless, true);
      assert.deepEqual(store.service('beta', 'dual')!.clusterIPs, ['10.96.2.2', 'fd00::22']);
      const ext = store.service('beta', 'ext') as ServiceRecord;
      assert.equal(ext.type, 'ExternalName');
      assert.equal(ext.externalName, 'example.com.');
      if (source.kinds.includes('EndpointSlice')) {
        const slices = store.slicesOfService('alpha', 'web');
        assert.equal(slices.length, 1);
        assert.deepEqual(slices[0]!.endpoints.map((e) => e.addresses[0]), ['10.1.0.1', '10.1.0.2']);
        assert.equal(store.slicesOfService('alpha', 'db')[0]!.endpoints[0]!.ready, false);
      }
      if (source.kinds.includes('Pod')) assert.deepEqual(store.podsWithIp('10.1.0.1').map((p) => p.name), ['web-0']);
    });

    it('reflects an update, and only the updated object changes', async () => {
      batches.length = 0;
      await fixture.upsert([serviceObject('alpha', 'web', '10.96.1.9')]);
      await waitUntil(() => store.service('alpha', 'web')?.clusterIPs[0] === '10.96.1.9', { timeoutMs, message: 'update not seen' });
      const changed = batches.flat().map((c) => `${c.kind} ${c.key}`);
      assert.deepEqual([...new Set(changed)], ['Service alpha/web']);
    });

    it('reflects a new object in an existing namespace', async () => {
      await fixture.upsert([serviceObject('beta', 'late', '10.96.3.3')]);
      await waitUntil(() => store.service('beta', 'late') !== undefined, { timeoutMs, message: 'create not seen' });
      assert.equal(store.count('Service'), 5);
    });

    it('reflects a delete', async () => {
      await fixture.remove('Service', 'alpha', 'db');
      await waitUntil(() => store.service('alpha', 'db') === undefined, { timeoutMs, message: 'delete not seen' });
      const last = batches.flat().find((c) => c.key === 'alpha/db' && c.current === null);
      assert.ok(last, 'listeners got the delete');
      assert.equal(last.previous?.kind, 'Service');
    });

    it('delivers nothing after stop()', async () => {
      await source.stop();
      const before = store.count('Service');
      const witness = fixture.witness();
      const seen = new ClusterStore();
      witness.start(seen);
      try {
        await waitUntil(() => seen.synced(witness.kinds), { timeoutMs, message: 'the witness did not sync' });
        await fixture.upsert([serviceObject('beta', 'after-stop', '10.96.4.4')]);
        await waitUntil(() => seen.service('beta', 'after-stop') !== undefined, { timeoutMs, message: 'the witness did not see the change' });
      } finally {
        await witness.stop();
      }
      assert.equal(store.service('beta', 'after-stop'), undefined);
      assert.equal(store.count('Service'), before);
    });
  });
}

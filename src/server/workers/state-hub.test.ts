/**
 * @module server/workers/state-hub.test
 * Shared cluster state, primary and worker in one process over a fake IPC
 * channel (asynchronous, structured-cloned like node:cluster's 'advanced'
 * serialization): a manifest folder run by the primary's StateHub and
 * relayed to a worker passes the same source contract as the folder itself;
 * then what is particular to sharing: snapshot in parts applied at once,
 * deltas only, subscriptions waiting for their source, the reload overlap,
 * and what the primary's own plugin store sees.
 */
import assert from 'node:assert/strict';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ManifestSource } from '../../cluster/manifests/manifest-source.ts';
import { ClusterStore } from '../../cluster/store.ts';
import type { ClusterKind, ClusterRecord, ClusterStateSink, ClusterStateSource, ServiceRecord } from '../../cluster/types.ts';
import { memoryLogger } from '../../log/logger.ts';
import { clusterSourceContract } from '../../../test/support/cluster-source-contract.ts';
import { makeTempDir, removeDir } from '../../../test/support/kubeconfig.ts';
import { RecordingSink } from '../../../test/support/recording-sink.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import { SNAPSHOT_PART, type StateMessage, type StatePeer, type ToPrimary } from './messages.ts';
import { StateHub } from './state-hub.ts';
import { StateRelay } from './state-relay.ts';

/** A worker wired to a hub through a channel that delivers later and copies, as IPC does. */
class FakeWorker implements StatePeer {
  readonly relay: StateRelay;
  readonly received: StateMessage[] = [];

  constructor(hub: StateHub) {
    this.relay = new StateRelay((m: ToPrimary) => {
      const copy = structuredClone(m);
      setImmediate(() => {
        if (copy.t === 'subscribe') hub.subscribe(this, copy.sub, copy.key);
        else if (copy.t === 'unsubscribe') hub.unsubscribe(this, copy.sub);
      });
    });
  }

  send(msg: StateMessage): void {
    const copy = structuredClone(msg);
    setImmediate(() => { this.received.push(copy); this.relay.receive(copy); });
  }
}

/** A source the test drives by hand. */
class HandSource implements ClusterStateSource {
  readonly kinds: readonly ClusterKind[] = ['Namespace', 'Service'];
  sink: ClusterStateSink | null = null;
  stopped = false;
  start(sink: ClusterStateSink): void { this.sink = sink; }
  stop(): void { this.stopped = true; }
}

function service(namespace: string, name: string, ip: string): ServiceRecord {
  return {
    kind: 'Service', namespace, name, type: 'ClusterIP', clusterIPs: [ip], headless: false, externalName: null,
    ports: [], publishNotReadyAddresses: false, labels: {},
  };
}

function fileOf(dir: string, kind: string, namespace: string, name: string): string {
  return join(dir, `${kind}-${namespace || '_'}-${name}.yaml`.toLowerCase());
}

clusterSourceContract('ManifestSource run by a StateHub, relayed to a worker', () => {
  let dir = '';
  let primarySide: ClusterStateSource | null = null;
  const write = async (o: { kind: string; metadata: { namespace?: string; name: string } }): Promise<void> => {
    await writeFile(fileOf(dir, o.kind, o.metadata.namespace ?? '', o.metadata.name), stringify(o));
  };
  return {
    async create(initial) {
      dir = await makeTempDir('clusterdns-shared-');
      for (const o of initial) await write(o);
      const hub = new StateHub();
      const manifests = new ManifestSource({ paths: [dir], logger: memoryLogger(), debounceMs: 20, pollIntervalMs: 200 });
      primarySide = (await hub.share('k', manifests.kinds, async () => manifests));
      primarySide.start(new RecordingSink());
      return new FakeWorker(hub).relay.share('k', manifests.kinds, workerMustNotMake);
    },
    async upsert(objects) {
      for (const o of objects) await write(o);
    },
    async remove(kind: ClusterKind, namespace, name) {
      await unlink(fileOf(dir, kind, kind === 'Namespace' ? '' : namespace, name));
    },
    witness: () => new ManifestSource({ paths: [dir], logger: memoryLogger(), debounceMs: 20, pollIntervalMs: 200 }),
    async cleanup() {
      await primarySide?.stop();
      await removeDir(dir);
    },
  };
});

/** A worker's factory: never called (a worker must not construct the API client or read manifests). */
let workerMade = 0;
const workerMustNotMake = (): Promise<ClusterStateSource> => {
  workerMade++;
  return Promise.reject(new Error('a worker made its own source'));
};

describe('StateHub and StateRelay', () => {
  it('a worker never makes the source: the relay needs only the kinds; the primary makes it once', async () => {
    const hub = new StateHub();
    let made = 0;
    const source = new HandSource();
    const primary = await hub.share('k', source.kinds, async () => { made++; return source; });
    const relayed = await new FakeWorker(hub).relay.share('k', source.kinds, workerMustNotMake);
    assert.deepEqual(relayed.kinds, source.kinds);
    assert.equal(made, 1);
    assert.equal(workerMade, 0);
    await primary.stop();
  });

  it('a snapshot of several parts becomes one replace, then only real changes travel, then synced', async () => {
    const hub = new StateHub();
    const source = new HandSource();
    const primaryStore = new ClusterStore();
    (await hub.share('k', source.kinds, async () => source)).start(primaryStore);
    const objects: ClusterRecord[] = [{ kind: 'Namespace', name: 'a', labels: {} }];
    for (let i = 0; i < SNAPSHOT_PART + 10; i++) objects.push(service('a', `s${i}`, `10.0.${i >> 8}.${i & 255}`));
    source.sink!.replace(source.kinds, objects);

    const worker = new FakeWorker(hub);
    const sink = new RecordingSink();
    (await worker.relay.share('k', source.kinds, workerMustNotMake)).start(sink);
    await waitUntil(() => sink.count('replace') === 1, { message: 'snapshot' });
    assert.equal(sink.size('Service'), SNAPSHOT_PART + 10);
    assert.deepEqual(worker.received.filter((m) => m.op === 'part').map((m) => m.op === 'part' && m.objects.length), [SNAPSHOT_PART, 11]);

    // A relist with one object changed ships that object, not the list.
    source.sink!.replace(source.kinds, objects.map((o) => (o.kind === 'Service' && o.name === 's3' ? service('a', 's3', '10.9.9.9') : o)));
    await waitUntil(() => sink.count('apply') === 1, { message: 'delta' });
    assert.deepEqual((sink.get('Service', 'a/s3') as ServiceRecord).clusterIPs, ['10.9.9.9']);
    const events = worker.received.filter((m) => m.op === 'events');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.op === 'events' && events[0]!.events.length, 1);

    source.sink!.apply({ type: 'DELETED', object: service('a', 's4', '') });
    source.sink!.markSynced('Service');
    await waitUntil(() => sink.syncedKinds.has('Service'), { message: 'synced' });
    assert.equal(sink.has('Service', 'a/s4'), false);
    // The primary's own store hears only "synced": it serves no DNS, so it keeps no copy.
    assert.equal(primaryStore.count('Service'), 0);
    assert.equal(primaryStore.isSynced('Service'), true);
  });

  it('a worker subscribing later gets what was synced already; one subscribing before its source exists waits for it', async () => {
    const hub = new StateHub();
    const early = new FakeWorker(hub);
    const earlySink = new RecordingSink();
    const source = new HandSource();
    (await early.relay.share('k', source.kinds, workerMustNotMake)).start(earlySink);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(hub.feeds(), []);

    (await hub.share('k', source.kinds, async () => source)).start(new ClusterStore());
    source.sink!.replace(source.kinds, [service('a', 'x', '10.0.0.1')]);
    source.sink!.markSynced('Namespace');
    source.sink!.markSynced('Service');
    await waitUntil(() => earlySink.syncedKinds.size === 2, { message: 'early subscriber synced' });
    assert.ok(earlySink.has('Service', 'a/x'));

    const late = new FakeWorker(hub);
    const lateSink = new RecordingSink();
    (await late.relay.share('k', source.kinds, workerMustNotMake)).start(lateSink);
    await waitUntil(() => lateSink.syncedKinds.size === 2, { message: 'late subscriber synced' });
    assert.ok(lateSink.has('Service', 'a/x'));
    assert.deepEqual(hub.feeds(), [{ key: 'k', subscribers: 2, objects: 1 }]);
  });

  it('a reload overlap: two sources with one key feed one store; the feed goes with the last of them', async () => {
    const hub = new StateHub();
    const worker = new FakeWorker(hub);
    const sink = new RecordingSink();
    const oldSource = new HandSource();
    const oldShared = (await hub.share('k', oldSource.kinds, async () => oldSource));
    oldShared.start(new ClusterStore());
    oldSource.sink!.replace(oldSource.kinds, [service('a', 'x', '10.0.0.1')]);
    (await worker.relay.share('k', oldSource.kinds, workerMustNotMake)).start(sink);
    await waitUntil(() => sink.count('replace') === 1);

    const newSource = new HandSource();
    const newShared = (await hub.share('k', newSource.kinds, async () => newSource));
    newShared.start(new ClusterStore());
    // The new source lists the same objects: nothing to ship.
    newSource.sink!.replace(newSource.kinds, [service('a', 'x', '10.0.0.1')]);
    await oldShared.stop();
    assert.equal(oldSource.stopped, true);
    newSource.sink!.apply({ type: 'ADDED', object: service('a', 'y', '10.0.0.2') });
    await waitUntil(() => sink.has('Service', 'a/y'), { message: 'change from the new source' });
    assert.equal(sink.count('apply'), 1);

    await newShared.stop();
    assert.deepEqual(hub.feeds(), []);
  });

  it('a stopped relay and a dead worker get nothing more', async () => {
    const hub = new StateHub();
    const source = new HandSource();
    (await hub.share('k', source.kinds, async () => source)).start(new ClusterStore());
    const a = new FakeWorker(hub);
    const b = new FakeWorker(hub);
    const sinkA = new RecordingSink();
    const sinkB = new RecordingSink();
    const relayedA = (await a.relay.share('k', source.kinds, workerMustNotMake));
    relayedA.start(sinkA);
    (await b.relay.share('k', source.kinds, workerMustNotMake)).start(sinkB);
    await waitUntil(() => hub.feeds()[0]?.subscribers === 2);
    relayedA.stop();
    assert.equal(a.relay.subscriptions, 0);
    hub.dropPeer(b);
    source.sink!.apply({ type: 'ADDED', object: service('a', 'z', '10.0.0.3') });
    // FakeWorker delivers one setImmediate after a send: two turns later anything sent has arrived.
    for (let i = 0; i < 2; i++) await new Promise((r) => { setImmediate(r); });
    assert.equal(sinkA.has('Service', 'a/z'), false);
    assert.equal(sinkB.has('Service', 'a/z'), false);
    assert.equal(hub.feeds()[0]!.subscribers, 0);
  });
});

/**
 * @module cluster/api/reflector.test
 * Reflector against the fake API server through a real kubeconfig file and
 * @kubernetes/client-node auth: pagination, events, bookmarks and resumed
 * watches, 410 relists, outages, injected errors with bounded logging,
 * malformed streams and invalid objects.
 */

import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeApiServer } from '../../../test/support/fake-apiserver.ts';
import { namespaceObject, serviceObject } from '../../../test/support/fake-objects.ts';
import { makeTempDir, removeDir, writeKubeconfig } from '../../../test/support/kubeconfig.ts';
import { RecordingLogger } from '../../../test/support/recording-logger.ts';
import { RecordingSink } from '../../../test/support/recording-sink.ts';
import { ioUntil, waitUntil } from '../../../test/support/wait-until.ts';
import { ClusterStore } from '../store.ts';
import type { ClusterRecord, ClusterStateSink, ServiceRecord } from '../types.ts';
import { KubeApiClient } from './client.ts';
import { resolveConnection } from './connection.ts';
import { Reflector, backoffDelay } from './reflector.ts';
import type { ReflectorOptions } from './reflector.ts';

interface Harness {
  server: FakeApiServer;
  sink: RecordingSink;
  logger: RecordingLogger;
  reflector: Reflector;
  close(): Promise<void>;
}

async function harness(opts: Partial<ReflectorOptions> = {}, before?: (s: FakeApiServer) => void): Promise<Harness> {
  const server = new FakeApiServer({ token: 'tok' });
  const { url } = await server.start();
  const dir = await makeTempDir();
  const kc = resolveConnection({ kubeconfig: await writeKubeconfig(dir, { server: url, token: 'tok' }) });
  // The kubeconfig's credentials come from a helper process: fetched here, so the tests' windows start with them.
  await kc.apply({});
  const sink = new RecordingSink();
  const logger = new RecordingLogger();
  before?.(server);
  const reflector = new Reflector({
    transport: new KubeApiClient(kc),
    resource: { kind: 'Service', path: '/api/v1/services' },
    sink,
    logger,
    backoff: { initialMs: 2, maxMs: 20 },
    ...opts,
  });
  reflector.start();
  return {
    server, sink, logger, reflector,
    close: async () => {
      await reflector.stop();
      await server.stop();
      await removeDir(dir);
    },
  };
}

function svcWatches(server: FakeApiServer): string[] {
  return server.requestLog.filter((r) => r.path === '/api/v1/services' && r.watch).map((r) => r.query.resourceVersion ?? '');
}

test('backoffDelay grows exponentially, is capped and jittered', () => {
  const b = { initialMs: 250, maxMs: 30_000, jitter: 0.5 };
  assert.equal(backoffDelay(0, b, () => 0), 250);
  assert.equal(backoffDelay(3, b, () => 0), 2000);
  assert.equal(backoffDelay(20, b, () => 0), 30_000);
  assert.equal(backoffDelay(20, b, () => 1), 15_000);
  assert.equal(backoffDelay(1000, b, () => 0), 30_000);
  for (let i = 0; i < 20; i++) {
    const d = backoffDelay(i);
    assert.ok(d >= 0 && d <= 30_000);
  }
});

test('paginated initial list, then adds/updates/deletes from the watch', async () => {
  const h = await harness({ pageSize: 2 }, (s) => {
    for (let i = 0; i < 5; i++) s.create(serviceObject('default', `s${i}`, `10.0.0.${i + 1}`));
  });
  try {
    await h.reflector.whenSynced;
    assert.deepEqual(h.sink.keys('Service'), ['default/s0', 'default/s1', 'default/s2', 'default/s3', 'default/s4']);
    const lists = h.server.requestLog.filter((r) => r.path === '/api/v1/services' && !r.watch);
    assert.equal(lists.length, 3);
    assert.ok(lists.every((l) => l.query.limit === '2'));
    assert.equal(lists[0]!.query.continue, undefined);
    assert.ok(lists[1]!.query.continue && lists[2]!.query.continue);
    assert.equal(lists[0]!.authorization, 'Bearer tok');
    assert.deepEqual(h.sink.calls.map((c) => c.op), ['replace', 'markSynced']);
    await waitUntil(() => h.server.openWatches === 1);
    const watch = h.server.requestLog.find((r) => r.watch)!;
    assert.equal(watch.query.resourceVersion, String(h.server.resourceVersion));
    assert.equal(watch.query.allowWatchBookmarks, 'true');
    assert.equal(watch.query.timeoutSeconds, '300');

    h.server.create(serviceObject('default', 'new', '10.0.0.9'));
    h.server.update(serviceObject('default', 's0', 'fd00::0A'));
    h.server.delete('Service', 'default', 's1');
    await waitUntil(() => h.sink.count('apply') === 3);
    assert.deepEqual((h.sink.get('Service', 'default/s0') as ServiceRecord).clusterIPs, ['fd00::a']);
    assert.ok(h.sink.has('Service', 'default/new'));
    assert.ok(!h.sink.has('Service', 'default/s1'));
    const st = h.reflector.status();
    assert.equal(st.resourceVersion, String(h.server.resourceVersion));
    assert.deepEqual([st.synced, st.connected, st.lists, st.relists, st.events, st.errors], [true, true, 1, 0, 3, 0]);
    assert.ok(st.lastSyncTime !== null);
  } finally {
    await h.close();
  }
});

test('a bookmark advances the resourceVersion and the next watch resumes from it', async () => {
  const h = await harness({ watchTimeoutSeconds: 1 }, (s) => s.create(serviceObject('default', 'a', '10.0.0.1')));
  try {
    await waitUntil(() => h.server.openWatches === 1);
    const listRV = svcWatches(h.server)[0];
    h.server.create(namespaceObject('elsewhere')); // moves the global RV, not a service event
    h.server.bookmark();
    const bookmarkRV = String(h.server.resourceVersion);
    assert.notEqual(bookmarkRV, listRV);
    await waitUntil(() => h.reflector.status().resourceVersion === bookmarkRV);
    await waitUntil(() => svcWatches(h.server).length >= 2, { timeoutMs: 3000 });
    assert.deepEqual(svcWatches(h.server).slice(0, 2), [listRV, bookmarkRV]);
    const st = h.reflector.status();
    assert.equal(st.bookmarks, 1);
    assert.equal(st.lists, 1);
    assert.equal(st.errors, 0);
  } finally {
    await h.close();
  }
});

test('a relist of unchanged objects lists the records the sink holds, not fresh copies (one copy of the state at its peak)', async () => {
  const store = new ClusterStore();
  const lists: (readonly ClusterRecord[])[] = [];
  const sink: ClusterStateSink = {
    apply: (e) => { store.apply(e); },
    replace: (kinds, objects) => { lists.push([...objects]); store.replace(kinds, objects); },
    markSynced: (kind) => { store.markSynced(kind); },
    held: (o) => store.held(o),
  };
  const h = await harness({ sink, pageSize: 2 }, (s) => {
    for (let i = 0; i < 5; i++) s.create(serviceObject('default', `s${i}`, `10.0.0.${i + 1}`));
  });
  try {
    await h.reflector.whenSynced;
    const before = new Map([...store.services()].map((r) => [r.name, r]));
    await waitUntil(() => h.server.openWatches === 1);
    await h.server.kill();
    h.server.update(serviceObject('default', 's4', '10.0.0.99'));
    h.server.compact();
    await h.server.restart();
    await waitUntil(() => h.reflector.status().relists === 1);
    assert.equal(lists.length, 2);
    const relisted = new Map(lists[1]!.map((r) => [r.name, r]));
    for (const name of ['s0', 's1', 's2', 's3']) assert.equal(relisted.get(name), before.get(name), `${name}: the held record itself`);
    assert.notEqual(relisted.get('s4'), before.get('s4'), 'a changed object is the new version');
    assert.deepEqual((store.service('default', 's4') as ServiceRecord).clusterIPs, ['10.0.0.99']);
  } finally {
    await h.close();
  }
});

test('a long list yields to the event loop between slices; its new objects go in first and the replace gets the stored copies', async () => {
  const store = new ClusterStore();
  const lists: (readonly ClusterRecord[])[] = [];
  let immediateRan: 'before replace' | 'after replace' | null = null;
  let scheduled = false;
  const sink: ClusterStateSink = {
    apply: (e) => { store.apply(e); },
    replace: (kinds, objects) => { lists.push([...objects]); store.replace(kinds, objects); },
    markSynced: (kind) => { store.markSynced(kind); },
    held: (o) => {
      // Scheduled at the first object of the page: it runs at the next turn of the event loop.
      if (!scheduled) { scheduled = true; setImmediate(() => { immediateRan = lists.length === 0 ? 'before replace' : 'after replace'; }); }
      return store.held(o);
    },
  };
  const h = await harness({ sink, pageSize: 500 }, (s) => {
    for (let i = 0; i < 350; i++) s.create(serviceObject('default', `s${i}`, `10.0.${i >> 8}.${i & 255}`));
  });
  try {
    await h.reflector.whenSynced;
    assert.equal(immediateRan, 'before replace', 'a turn of the event loop came between the first object of the page and the replace');
    assert.equal(lists.length, 1);
    assert.equal(lists[0]!.length, 350);
    for (const r of lists[0]!) assert.equal(store.service('default', r.name), r, `${r.name}: the list hands over the stored record`);
    assert.equal(store.synced(['Service']), true);
  } finally {
    await h.close();
  }
});

test('410 after an outage with compaction relists and replaces atomically', async () => {
  const h = await harness({}, (s) => {
    s.create(serviceObject('default', 'keep', '10.0.0.1'));
    s.create(serviceObject('default', 'gone', '10.0.0.2'));
  });
  try {
    await waitUntil(() => h.server.openWatches === 1);
    await h.server.kill();
    h.server.delete('Service', 'default', 'gone');
    h.server.create(serviceObject('default', 'added', '10.0.0.3'));
    h.server.compact();
    await h.server.restart();
    await waitUntil(() => h.reflector.status().relists === 1);
    assert.deepEqual(h.sink.keys('Service'), ['default/added', 'default/keep']);
    assert.equal(h.sink.count('replace'), 2);
    assert.equal(h.sink.count('markSynced'), 1);
    assert.equal(h.sink.count('apply'), 0, 'changes arrived through the relist, not as events');
    assert.ok(h.logger.infos.some((l) => /expired \(410\), relisting/.test(l)));
    // HTTP 410 on the watch request itself also relists.
    await waitUntil(() => h.server.openWatches === 1);
    await h.server.kill();
    h.server.failNext('/api/v1/services', 410);
    await h.server.restart();
    await waitUntil(() => h.reflector.status().relists === 2);
    await waitUntil(() => h.server.openWatches === 1);
    assert.equal(h.sink.count('replace'), 3);
  } finally {
    await h.close();
  }
});

test('kill mid-watch keeps the last state, then catches up from the last RV after restart', async () => {
  // One error line per minute: the whole outage logs exactly one.
  const h = await harness({ errorLogIntervalMs: 60_000 }, (s) => s.create(serviceObject('default', 'a', '10.0.0.1')));
  try {
    await waitUntil(() => h.server.openWatches === 1);
    await h.server.kill();
    await waitUntil(() => !h.reflector.connected);
    h.server.update(serviceObject('default', 'a', '10.0.0.11'));
    h.server.create(serviceObject('default', 'b', '10.0.0.2'));
    // Retries after the changes have failed too (counted), and the old state is still what is served.
    const failed = h.reflector.status().errors;
    await waitUntil(() => h.reflector.status().errors >= failed + 2);
    assert.deepEqual((h.sink.get('Service', 'default/a') as ServiceRecord).clusterIPs, ['10.0.0.1']);
    assert.ok(!h.sink.has('Service', 'default/b'));
    assert.ok(h.reflector.lastError !== null);
    await h.server.restart();
    await waitUntil(() => h.sink.has('Service', 'default/b'));
    assert.deepEqual((h.sink.get('Service', 'default/a') as ServiceRecord).clusterIPs, ['10.0.0.11']);
    const st = h.reflector.status();
    assert.equal(st.relists, 0);
    assert.ok(st.reconnects >= 1);
    assert.ok(st.errors >= 2, `errors ${st.errors}`);
    assert.equal(h.logger.errors.length, 1, `one error line for ${st.errors} failures`);
    assert.ok(h.logger.errors.length < st.errors);
    await waitUntil(() => h.reflector.connected);
    assert.ok(h.logger.infos.some((l) => /connection restored/.test(l)));
  } finally {
    await h.close();
  }
});

test('injected 500/403 errors are retried with backoff and logged once per period', async () => {
  const h = await harness({ backoff: { initialMs: 1, maxMs: 5 }, errorLogIntervalMs: 10_000 }, (s) => {
    s.create(serviceObject('default', 'a', '10.0.0.1'));
    s.failNext('/api/v1/services', 500, 15);
    s.failNext('/api/v1/services', 403, 15);
  });
  try {
    await waitUntil(() => h.reflector.synced, { timeoutMs: 3000 });
    const st = h.reflector.status();
    assert.equal(st.errors, 30);
    assert.equal(h.logger.errors.length, 1);
    assert.match(h.logger.errors[0] ?? '', /list failed: HTTP 500 InternalError/);
    assert.match(h.reflector.lastError ?? '', /403 Forbidden/);
    assert.ok(h.logger.infos.some((l) => /restored after 30 failed attempts/.test(l)));
    assert.ok(h.sink.has('Service', 'default/a'));
  } finally {
    await h.close();
  }
});

test('with the default log interval (backoff cap) error lines are rate-limited', async (t) => {
  // Date frozen (timers real): 40 failures within one instant of the log clock give one line.
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  t.after(() => { mock.timers.reset(); });
  const h = await harness({ backoff: { initialMs: 1, maxMs: 10, jitter: 0 } }, (s) => s.failNext('/api/v1/services', 503, 40));
  try {
    await waitUntil(() => h.reflector.synced, { timeoutMs: 5000 });
    assert.equal(h.reflector.status().errors, 40);
    assert.equal(h.logger.errors.length, 1, h.logger.errors.join('\n'));
  } finally {
    await h.close();
  }
});

test('a malformed watch stream is an error; the watch resumes from the last RV', async () => {
  const h = await harness();
  try {
    await waitUntil(() => h.server.openWatches === 1);
    h.server.create(serviceObject('default', 'a', '10.0.0.1'));
    await waitUntil(() => h.sink.has('Service', 'default/a'));
    const rvAfterA = h.reflector.status().resourceVersion;
    h.server.sendRaw('Service', '{"type":"ADDED","object":\n');
    await waitUntil(() => h.reflector.status().errors === 1);
    h.server.create(serviceObject('default', 'b', '10.0.0.2'));
    await waitUntil(() => h.sink.has('Service', 'default/b'));
    assert.equal(svcWatches(h.server)[1], rvAfterA);
    assert.equal(h.reflector.status().relists, 0);
  } finally {
    await h.close();
  }
});

test('invalid objects are skipped; an update to an invalid version drops the old record', async () => {
  const h = await harness({}, (s) => {
    s.create(serviceObject('default', 'good', '10.0.0.1'));
    s.create(serviceObject('default', 'bad', '10.0.0.300'));
  });
  try {
    await h.reflector.whenSynced;
    assert.deepEqual(h.sink.keys('Service'), ['default/good']);
    assert.ok(h.logger.warnings.some((l) => /skipped 1 invalid objects.*default\/bad/.test(l)));
    await waitUntil(() => h.server.openWatches === 1);
    h.server.update(serviceObject('default', 'good', 'not-an-ip'));
    await waitUntil(() => !h.sink.has('Service', 'default/good'));
    assert.equal(h.reflector.status().skipped, 2);
    assert.equal(h.reflector.status().errors, 0);
  } finally {
    await h.close();
  }
});

test('stop() ends while retrying against a dead server, without waiting for the backoff', async (t) => {
  const h = await harness({ backoff: { initialMs: 5_000, maxMs: 10_000 } });
  await h.reflector.whenSynced;
  // From here setTimeout is mocked and never ticked: the 5 s backoff timer cannot fire, so only stop() can end the wait.
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => { mock.timers.reset(); });
  await h.server.kill();
  assert.ok(await ioUntil(() => h.reflector.status().errors >= 1), 'the retry failed');
  let closed = false;
  void h.close().then(() => { closed = true; });
  assert.ok(await ioUntil(() => closed), 'stop() resolved with the backoff timer still pending');
  assert.equal(h.reflector.connected, false);
});

/**
 * @module test/live/live-reload-share.test
 * A reload whose kubernetes block is unchanged takes the running source,
 * store and index over (plugins/kubernetes/shared-cluster.ts): it lists
 * nothing again (list requests counted on the API test server), keeps
 * answering, and keeps following the watch after the old configuration shut
 * down. A changed block (a namespace filter) builds its own and takes
 * effect, and the old source's watches end. A broken Corefile changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dig, startServer } from '../support/harness.ts';
import { ns, svc } from '../support/k8s-objects.ts';
import { makeTempDir, removeDir } from '../support/kubeconfig.ts';
import { waitUntil } from '../support/wait-until.ts';
import { answers, digUntil, kube, liveCorefile, startApi } from './live-support.ts';

test('reload: an unchanged kubernetes block shares the running source, a changed one builds anew', { timeout: 60_000 }, async () => {
  const api = await startApi(true);
  const dir = await makeTempDir('clusterdns-reload-share-');
  const file = path.join(dir, 'Corefile');
  const corefile = (o: { options?: string[]; extra?: string[] }): string => liveCorefile(`endpoint ${api.url}`, o);
  for (const o of [ns('prod'), ns('dev'), svc('prod', 'web', ['10.96.0.10']), svc('dev', 'db', ['10.96.1.10'])]) api.create(kube(o));
  await writeFile(file, corefile({}));
  const server = await startServer('', { path: file });
  const lists = (): number => api.requestCount('/api/v1/services', false);
  try {
    assert.deepEqual(answers(await dig(server.port, 'A', 'web.prod.svc.cluster.local.')), ['10.96.0.10']);
    const listsAtStart = lists();
    const watchesAtStart = api.openWatches;

    // Another directive changes; the kubernetes block does not.
    await writeFile(file, corefile({ extra: ['errors'] }));
    assert.equal(await server.app.reload(), true);
    assert.equal(lists(), listsAtStart, 'no relist for an unchanged kubernetes block');
    assert.equal(api.openWatches, watchesAtStart, 'the same watches, no new ones');
    assert.deepEqual(answers(await dig(server.port, 'A', 'web.prod.svc.cluster.local.')), ['10.96.0.10']);
    // The old configuration has shut down: the shared watch must still feed the new one.
    api.create(kube(svc('prod', 'api', ['10.96.0.11'])));
    const created = await digUntil(server.port, ['A', 'api.prod.svc.cluster.local.'], (r) => r.status === 'NOERROR');
    assert.deepEqual(answers(created), ['10.96.0.11']);

    // A broken Corefile is refused and the running state stays.
    await writeFile(file, `${corefile({ extra: ['errors'] })}nonsense {\n  nosuchplugin\n}\n`);
    await assert.rejects(server.app.reload());
    assert.equal(lists(), listsAtStart);
    assert.deepEqual(answers(await dig(server.port, 'A', 'db.dev.svc.cluster.local.')), ['10.96.1.10']);

    // A changed block builds its own source: one more list, and its namespace filter is served.
    await writeFile(file, corefile({ extra: ['errors'], options: ['namespaces prod'] }));
    assert.equal(await server.app.reload(), true);
    assert.equal(lists(), listsAtStart + 1);
    assert.equal((await dig(server.port, 'A', 'db.dev.svc.cluster.local.')).status, 'NXDOMAIN');
    assert.deepEqual(answers(await dig(server.port, 'A', 'api.prod.svc.cluster.local.')), ['10.96.0.11']);
    // The old source was stopped with the last configuration that used it: its watches end.
    await waitUntil(() => api.openWatches === watchesAtStart, { timeoutMs: 10_000 });
  } finally {
    await server.stop();
    await api.stop();
    await removeDir(dir);
  }
});

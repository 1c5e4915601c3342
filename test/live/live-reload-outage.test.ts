/**
 * @module test/live/live-reload-outage.test
 * A reload while the API server is down (found by the soak, bench/soak.ts)
 * whose kubernetes block changed (so it builds its own source, which cannot
 * list): after its startup wait it must still answer from the last known
 * state, not SERVFAIL every cluster name until the API server returns; once
 * it is back, changes made meanwhile are served. (An unchanged block takes
 * the running source over: live-reload-share.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dig, startServer } from '../support/harness.ts';
import { ns, svc } from '../support/k8s-objects.ts';
import { makeTempDir, removeDir } from '../support/kubeconfig.ts';
import { answers, digUntil, kube, liveCorefile, startApi } from './live-support.ts';

test('reload during an API outage keeps answering the last known state, then follows the API again', { timeout: 60_000 }, async () => {
  const api = await startApi(true);
  const dir = await makeTempDir('clusterdns-reload-outage-');
  const file = path.join(dir, 'Corefile');
  for (const o of [ns('prod'), svc('prod', 'web', ['10.96.0.10'])]) api.create(kube(o));
  await writeFile(file, liveCorefile(`endpoint ${api.url}`));
  const server = await startServer('', { path: file });
  try {
    assert.deepEqual(answers(await dig(server.port, 'A', 'web.prod.svc.cluster.local.')), ['10.96.0.10']);
    await api.kill();
    // The block changes (ttl), so the new configuration makes a new source, which cannot list now.
    await writeFile(file, liveCorefile(`endpoint ${api.url}`, { options: ['ttl 10', 'startup_timeout 1s'] }));
    assert.equal(await server.app.reload(), true);
    assert.ok(server.logs.some((l) => l.includes('serving the last known')), 'filled from the last known state');
    const during = await dig(server.port, 'A', 'web.prod.svc.cluster.local.');
    assert.deepEqual([during.status, answers(during)], ['NOERROR', ['10.96.0.10']]);

    api.create(kube(svc('prod', 'api', ['10.96.0.11'])));
    await api.restart();
    const after = await digUntil(server.port, ['A', 'api.prod.svc.cluster.local.'], (r) => r.status === 'NOERROR', 40_000);
    assert.deepEqual(answers(after), ['10.96.0.11']);
    assert.deepEqual(answers(await dig(server.port, 'A', 'web.prod.svc.cluster.local.')), ['10.96.0.10']);
  } finally {
    await server.stop();
    await api.stop();
    await removeDir(dir);
  }
});

/**
 * @module test/live/live-reload-outage.test
 * A reload while the API server is down (found by the soak, bench/soak.ts):
 * the new configuration's kubernetes plugin cannot list, and after its
 * startup wait it must still answer from the last known state, not SERVFAIL
 * every cluster name until the API server returns; once it is back, changes
 * made meanwhile are served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dig } from '../support/harness.ts';
import { ns, svc } from '../support/k8s-objects.ts';
import { answers, digUntil, kube, startLive } from './live-support.ts';

test('reload during an API outage keeps answering the last known state, then follows the API again', { timeout: 60_000 }, async () => {
  const live = await startLive({ plainEndpoint: true, objects: [ns('prod'), svc('prod', 'web', ['10.96.0.10'])] });
  try {
    assert.deepEqual(answers(await dig(live.port, 'A', 'web.prod.svc.cluster.local.')), ['10.96.0.10']);
    await live.api.kill();
    // Forced: the same Corefile is built and started again (a new source, which cannot list now).
    assert.equal(await live.server.app.reload(true), true);
    const during = await dig(live.port, 'A', 'web.prod.svc.cluster.local.');
    assert.deepEqual([during.status, answers(during)], ['NOERROR', ['10.96.0.10']]);

    live.api.create(kube(svc('prod', 'api', ['10.96.0.11'])));
    await live.api.restart();
    const after = await digUntil(live.port, ['A', 'api.prod.svc.cluster.local.'], (r) => r.status === 'NOERROR', 40_000);
    assert.deepEqual(answers(after), ['10.96.0.11']);
    assert.deepEqual(answers(await dig(live.port, 'A', 'web.prod.svc.cluster.local.')), ['10.96.0.10']);
  } finally {
    await live.stop();
  }
});

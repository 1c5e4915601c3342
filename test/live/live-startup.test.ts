/**
 * @module test/live/live-startup.test
 * Startup as CoreDNS does it: wait for the first sync of the kubernetes
 * block before serving, logging "waiting for Kubernetes API before starting
 * server"; with an API server that never answers, serve after
 * startup_timeout with the warning, answer cluster names SERVFAIL until the
 * first sync while other names work; an API server that comes up late is
 * waited for; the default timeout is 5 s. /ready (ready plugin) is 503
 * naming "kubernetes" before the first sync, and 200 after it.
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet } from '../ops/ops-support.ts';
import { dig } from '../support/harness.ts';
import { ns, svc } from '../support/k8s-objects.ts';
import { makeTempDir, removeDir } from '../support/kubeconfig.ts';
import { ioUntil, waitUntil } from '../support/wait-until.ts';
import { answers, digUntil, kube, kubeconfigFor, liveCorefile, silentServer, startApi, startInBackground } from './live-support.ts';

const Z = 'cluster.local.';
const WAITING = '[INFO] plugin/kubernetes: waiting for Kubernetes API before starting server';
const UNSYNCED = '[WARNING] plugin/kubernetes: starting server with unsynced Kubernetes API';

/**
 * setTimeout and Date mocked for the startup wait: it moves only by tick. Real I/O
 * still runs; `ioUntil` polls between setImmediate turns (not mocked) with a
 * real-time bound from performance.now (not mocked).
 */
function mockedClock(t: { after: (fn: () => void) => void }): { tick(ms: number): void; restore(): void } {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  let on = true;
  const restore = (): void => { if (on) { on = false; mock.timers.reset(); } };
  t.after(restore);
  return { tick: (ms) => { mock.timers.tick(ms); }, restore };
}

/**
 * Advances the startup clock by `ms` in 100 ms steps (the wait's own step),
 * letting I/O run after each; true when the server is serving at the end.
 * While it is not, nothing but the clock could start it (the API server never answers).
 */
async function startsWithin(bg: { app: { services: { phase: string } } }, clock: { tick(ms: number): void }, ms: number): Promise<boolean> {
  for (let done = 0; done < ms; done += 100) {
    clock.tick(Math.min(100, ms - done));
    for (let i = 0; i < 20; i++) await new Promise((r) => { setImmediate(r); });
  }
  return ioUntil(() => bg.app.services.phase === 'serving', 1000);
}

describe('startup and readiness', () => {
  it('an API server that never answers: serving after startup_timeout, SERVFAIL for cluster names, other names answered', async (t) => {
    const silent = await silentServer();
    const clock = mockedClock(t);
    const bg = startInBackground(liveCorefile(`endpoint ${silent.url}`, { options: ['startup_timeout 1s'], extra: ['whoami'] }));
    try {
      assert.ok(await ioUntil(() => silent.requests() >= 1), 'the source did ask');
      assert.equal(await startsWithin(bg, clock, 900), false, 'still waiting at 900 ms of the startup clock');
      assert.equal(await startsWithin(bg, clock, 100), true, 'serving at 1 s');
      clock.restore();
      await bg.started;
      const waiting = bg.logs.indexOf(WAITING);
      assert.ok(waiting >= 0, bg.logs.join('\n'));
      assert.ok(bg.logs.indexOf(UNSYNCED) > waiting, 'the warning comes after the waiting line');
      const port = bg.app.port();
      const cluster = await dig(port, 'A', `web.prod.svc.${Z}`);
      assert.equal(cluster.status, 'SERVFAIL');
      assert.equal(cluster.authority[0]?.type, 'SOA');
      assert.equal((await dig(port, 'A', `nope.${Z}`)).status, 'SERVFAIL');
      const other = await dig(port, 'A', 'example.org.');
      assert.equal(other.status, 'NOERROR', 'whoami answers names outside the cluster zones');
      assert.ok(other.additional.some((x) => x.type === 'A' && x.data === '127.0.0.1'), other.raw);
    } finally {
      await bg.stop();
      await silent.close();
    }
  });

  it('an API server that comes up late is waited for; no warning; cluster names answer from the start', async () => {
    const api = await startApi();
    const dir = await makeTempDir('clusterdns-live-');
    api.create(kube(ns('prod')));
    api.create(kube(svc('prod', 'web', ['10.96.0.10'])));
    const kubeconfig = await kubeconfigFor(api, dir);
    await api.stop(); // connection refused until it comes back
    const bg = startInBackground(liveCorefile(`kubeconfig ${kubeconfig}`, { options: ['startup_timeout 30s'] }));
    try {
      // Up again only once the server says it waits (not after a fixed sleep: how long the source takes to be made varies).
      await waitUntil(() => bg.logs.includes(WAITING), { timeoutMs: 10_000, message: 'no waiting line' });
      assert.equal(bg.app.services.phase === 'serving', false, 'still starting');
      await api.restart();
      await bg.started;
      assert.ok(!bg.logs.includes(UNSYNCED));
      assert.deepEqual(answers(await dig(bg.app.port(), 'A', `web.prod.svc.${Z}`)), ['10.96.0.10']);
    } finally {
      await bg.stop();
      await api.stop();
      await removeDir(dir);
    }
  });

  it('the default startup_timeout is 5 s', async (t) => {
    const silent = await silentServer();
    const clock = mockedClock(t);
    const bg = startInBackground(liveCorefile(`endpoint ${silent.url}`));
    try {
      assert.ok(await ioUntil(() => silent.requests() >= 1), 'the source did ask');
      assert.equal(await startsWithin(bg, clock, 4900), false, 'still waiting at 4.9 s of the startup clock');
      assert.equal(bg.logs.filter((l) => l === WAITING).length, 9, 'a waiting line every 0.5 s');
      assert.equal(await startsWithin(bg, clock, 100), true, 'serving at 5 s');
      clock.restore();
      await bg.started;
      assert.ok(bg.logs.includes(UNSYNCED));
      assert.equal((await dig(bg.app.port(), 'A', `web.prod.svc.${Z}`)).status, 'SERVFAIL');
    } finally {
      await bg.stop();
      await silent.close();
    }
  });

  it('/ready: 503 naming kubernetes during startup and after an unsynced start, 200 once the first sync is done', async () => {
    const api = await startApi();
    const dir = await makeTempDir('clusterdns-live-');
    api.create(kube(ns('prod')));
    api.create(kube(svc('prod', 'web', ['10.96.0.10'])));
    const kubeconfig = await kubeconfigFor(api, dir);
    await api.stop();
    const bg = startInBackground(liveCorefile(`kubeconfig ${kubeconfig}`, { options: ['startup_timeout 1s'], extra: ['ready 127.0.0.1:0'] }));
    try {
      // While startup still waits for the API.
      await waitUntil(() => bg.app.services.http.port('127.0.0.1:0') !== undefined, { message: '/ready listening' });
      const readyPort = bg.app.services.http.port('127.0.0.1:0')!;
      assert.deepEqual(await httpGet(readyPort, '/ready').then((a) => [a.status, a.body]), [503, 'kubernetes\n']);
      await bg.started;
      assert.ok(bg.logs.includes(UNSYNCED));
      assert.deepEqual(await httpGet(readyPort, '/ready').then((a) => [a.status, a.body]), [503, 'kubernetes\n']);
      assert.ok(bg.logs.some((l) => l === '[INFO] plugin/ready: Plugins not ready: "kubernetes"'));
      assert.equal((await dig(bg.app.port(), 'A', `web.prod.svc.${Z}`)).status, 'SERVFAIL');
      // The API server comes back: the reflectors sync by themselves, DNS and /ready follow.
      await api.restart();
      await digUntil(bg.app.port(), ['A', `web.prod.svc.${Z}`], (x) => answers(x).join() === '10.96.0.10', 10_000);
      // Services answer as soon as their list is in; /ready waits for every kind (namespaces, slices) too.
      let ready: unknown[] = [];
      for (let i = 0; i < 100; i++) {
        ready = await httpGet(readyPort, '/ready').then((a) => [a.status, a.body]);
        if (ready[0] === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(ready, [200, 'OK']);
    } finally {
      await bg.stop();
      await api.stop();
      await removeDir(dir);
    }
  });
});

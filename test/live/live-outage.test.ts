/**
 * @module test/live/live-outage.test
 * API server outages behind a running server, with real dig: killed
 * mid-watch, every known name keeps its answer (queried several times over
 * a few seconds) while the metrics say disconnected and stale; objects
 * created and deleted during the outage show up after the API server comes
 * back (the reflectors reconnect by themselves); the error is logged once,
 * not once per retry. Then compaction during an outage: the watch gets 410
 * Expired, the kinds are relisted and replaced in one step, and an object
 * deleted while compacted disappears.
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { samples, total, type MetricFamilies } from '../ops/ops-support.ts';
import { dig } from '../support/harness.ts';
import { ns, slice, svc } from '../support/k8s-objects.ts';
import { delay, waitUntil } from '../support/wait-until.ts';
import { answers, digUntil, kube, scrapeApp, startLive } from './live-support.ts';

const Z = 'cluster.local.';

/** Name, type and the answer it must keep through the outage. */
const KNOWN: readonly (readonly [string, string, string])[] = [
  [`web.prod.svc.${Z}`, 'A', '10.96.0.10'],
  [`_http._tcp.web.prod.svc.${Z}`, 'SRV', `0 100 80 web.prod.svc.${Z}`],
  [`db.prod.svc.${Z}`, 'A', '10.1.0.1,10.1.0.2'],
  [`primary.db.prod.svc.${Z}`, 'A', '10.1.0.1'],
  ['10.0.96.10.in-addr.arpa.', 'PTR', `web.prod.svc.${Z}`],
  ['1.0.1.10.in-addr.arpa.', 'PTR', `primary.db.prod.svc.${Z}`],
];

const OBJECTS = [
  ns('prod'),
  svc('prod', 'web', ['10.96.0.10'], [{ name: 'http', port: 80 }]),
  svc('prod', 'db', 'None', [{ name: 'pg', port: 5432 }]),
  slice('prod', 'db-a', 'db', [{ ip: '10.1.0.1', hostname: 'primary' }, { ip: '10.1.0.2' }], [{ name: 'pg', port: 5432 }]),
  svc('prod', 'old', ['10.96.0.30']),
];

async function checkKnown(port: number): Promise<void> {
  for (const [name, type, want] of KNOWN) {
    const r = await dig(port, type, name);
    assert.equal(r.status, 'NOERROR', `${type} ${name}`);
    assert.equal(answers(r).join(), want, `${type} ${name}`);
  }
}

function gauge(m: MetricFamilies, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(m, name, labels)[0]?.value;
}

describe('API server outages', () => {
  it('killed mid-watch: every known name still answers; changes made meanwhile arrive after restart; one error line', async () => {
    const live = await startLive({ objects: OBJECTS, extra: ['prometheus 127.0.0.1:0'] });
    try {
      await waitUntil(() => live.api.openWatches === 3, { message: 'watches open' });
      await checkKnown(live.port);
      let m = await scrapeApp(live.server.app);
      assert.equal(gauge(m, 'coredns_kubernetes_api_connected', { resource: 'services' }), 1);
      assert.equal(gauge(m, 'coredns_kubernetes_stale_seconds'), 0);

      // The wall clock stands still from the kill (timers stay real): the reflectors' failure time is this
      // instant, so the stale gauge reads exactly the time the clock is moved on by.
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      await live.api.kill();
      // Changes the server cannot see yet.
      live.api.create(kube(svc('prod', 'new', ['10.96.0.20'])));
      live.api.delete('Service', 'prod', 'old');
      // Rounds of queries while the retries fail, paced by the retry counter (not a clock): round r waits
      // for r + 1 failed retries in all, and the outage ends after 6 (kept short: the backoff doubles).
      const reconnects = async (): Promise<number> => total(await scrapeApp(live.server.app), 'coredns_kubernetes_api_reconnects_total');
      const atKill = await reconnects();
      for (let round = 0; round < 6; round++) {
        await checkKnown(live.port);
        assert.equal((await dig(live.port, 'A', `new.prod.svc.${Z}`)).status, 'NXDOMAIN');
        assert.deepEqual(answers(await dig(live.port, 'A', `old.prod.svc.${Z}`)), ['10.96.0.30']);
        // Bounded: the backoff (250 ms doubling, three kinds) brings retries within a few seconds.
        let now = await reconnects();
        for (let i = 0; i < 200 && now < atKill + round + 1; i++) { await delay(50); now = await reconnects(); }
        assert.ok(now >= atKill + round + 1, `round ${round}: ${now - atKill} retries failed while the API was down`);
      }
      m = await scrapeApp(live.server.app);
      for (const resource of ['namespaces', 'services', 'endpointslices']) {
        assert.equal(gauge(m, 'coredns_kubernetes_api_connected', { resource }), 0, resource);
        assert.equal(gauge(m, 'coredns_kubernetes_api_synced', { resource }), 1, resource);
      }
      // Stale since the kill: 20 s on once the clock has moved 20 s (less than the 30 s error-log period,
      // so the one error line below stays one).
      assert.equal(gauge(m, 'coredns_kubernetes_stale_seconds'), 0, 'the clock has not moved since the failures');
      mock.timers.tick(20_000);
      assert.equal(gauge(await scrapeApp(live.server.app), 'coredns_kubernetes_stale_seconds'), 20);
      mock.timers.reset();
      const failures = total(m, 'coredns_kubernetes_api_reconnects_total');
      assert.ok(failures >= 6, `${failures} retries`);

      await live.api.restart();
      // Default backoff (250 ms doubling, 30 s cap): on a slow machine the outage lasts longer and the next
      // retry may be up to the cap away, so the bounds cover it.
      await digUntil(live.port, ['A', `new.prod.svc.${Z}`], (x) => answers(x).join() === '10.96.0.20', 35_000);
      await digUntil(live.port, ['A', `old.prod.svc.${Z}`], (x) => x.status === 'NXDOMAIN', 3000);
      await checkKnown(live.port);
      await waitUntil(() => live.api.openWatches === 3, { timeoutMs: 35_000, message: 'every watch reopened' });
      m = await scrapeApp(live.server.app);
      assert.equal(gauge(m, 'coredns_kubernetes_stale_seconds'), 0);
      assert.equal(gauge(m, 'coredns_kubernetes_api_connected', { resource: 'endpointslices' }), 1);
      assert.equal(total(m, 'coredns_kubernetes_api_relists_total'), 0, 'resumed from the last resourceVersion, no relist');

      // One error line for the whole outage (one per backoff period of 30 s), although every kind retried many times.
      const errors = live.logs.filter((l) => l.startsWith('[ERROR] plugin/kubernetes:'));
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, new RegExp(`kubernetes \\w+: (list|watch) from ${live.api.url} failed: ECONN(RESET|REFUSED)[^;]*; serving the last known state, retrying with backoff$`));
      assert.ok(live.logs.some((l) => /\[INFO\] plugin\/kubernetes: kubernetes \w+: connection restored after \d+ failed attempts/.test(l)));
      assert.ok(!live.logs.some((l) => l.includes('[FATAL]')));
    } finally {
      mock.timers.reset();
      await live.stop();
    }
  });

  it('compaction during an outage: 410 Expired, relist, atomic replace; the object deleted meanwhile disappears', async () => {
    const live = await startLive({ objects: OBJECTS, extra: ['prometheus 127.0.0.1:0'] });
    try {
      await waitUntil(() => live.api.openWatches === 3);
      await live.api.kill();
      live.api.delete('Service', 'prod', 'old');
      live.api.create(kube(svc('prod', 'added', ['10.96.0.40'])));
      live.api.compact(); // the history the watch would resume from is gone
      await live.api.restart();
      await digUntil(live.port, ['A', `old.prod.svc.${Z}`], (x) => x.status === 'NXDOMAIN', 10_000);
      assert.deepEqual(answers(await dig(live.port, 'A', `added.prod.svc.${Z}`)), ['10.96.0.40']);
      await checkKnown(live.port);
      const m = await scrapeApp(live.server.app);
      assert.ok(total(m, 'coredns_kubernetes_api_relists_total', { resource: 'services' }) >= 1);
      assert.ok(live.logs.some((l) => /kubernetes Service: watch from resourceVersion \d+ expired \(410\), relisting/.test(l)));
      // The relist came as lists, after the 410 on the resumed watch.
      const services = live.api.requestLog.filter((r) => r.path === '/api/v1/services');
      assert.ok(services.filter((r) => !r.watch).length >= 2, 'listed again');
    } finally {
      await live.stop();
    }
  });
});

/**
 * @module plugins/kubernetes/coredns-pods.test
 * Pod records and client identity: C19 with `pods disabled|insecure|verified`
 * (O7, D12 and the D9 extra label), C25 the search list autopath asks for,
 * and C23/O14/O17: before the first sync (a live API source whose server is
 * down) NXDOMAIN becomes SERVFAIL after fallthrough is considered, data-free
 * answers still work, startup waits and logs, readiness follows the sync.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkAll, soa, startCluster, type ClusterServer, type DnsCase } from '../../../test/support/k8s-dns.ts';
import { ns, svc, testCluster } from '../../../test/support/k8s-objects.ts';
import { FakeApiServer } from '../../../test/support/fake-apiserver.ts';
import type { KubeObject } from '../../../test/support/fake-apiserver.ts';
import { inject, startServer } from '../../../test/support/harness.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import type { KubernetesHandler } from './handler.ts';

const Z = 'cluster.local.';
const SOA = soa();
const nx = (name: string, type = 'A'): DnsCase => ({ name, type, rcode: 'NXDOMAIN', authority: [SOA] });
const nodata = (name: string, type = 'A'): DnsCase => ({ name, type, rcode: 'NOERROR', authority: [SOA] });
const a = (name: string, ip: string): DnsCase => ({ name, type: 'A', rcode: 'NOERROR', answer: [`${name} 5 IN A ${ip}`] });

function handlerOf(srv: ClusterServer): KubernetesHandler {
  const gen = srv.server.app.server.generation!;
  return gen.blocks[0]!.handlers.find((h) => h.name === 'kubernetes') as KubernetesHandler;
}

describe('C19 pod records', () => {
  it('pods disabled (default): every name below pod.<zone> is NXDOMAIN', async () => {
    const srv = await startCluster(testCluster());
    try {
      await checkAll(srv, [nx(`10-1-0-1.default.pod.${Z}`), nx(`default.pod.${Z}`), nodata(`pod.${Z}`)], true);
    } finally {
      await srv.stop();
    }
  });

  describe('pods insecure', () => {
    let srv: ClusterServer;
    before(async () => { srv = await startCluster(testCluster(), { options: ['pods insecure'] }); });
    after(() => srv.stop());

    it('any valid IP in an existing namespace answers, without looking at pods', () => checkAll(srv, [
      a(`10-1-0-1.default.pod.${Z}`, '10.1.0.1'),
      a(`192-0-2-55.default.pod.${Z}`, '192.0.2.55'),
      nodata(`10-1-0-1.default.pod.${Z}`, 'AAAA'),
      { name: `fd00--1.default.pod.${Z}`, type: 'AAAA', rcode: 'NOERROR', answer: [`fd00--1.default.pod.${Z} 5 IN AAAA fd00::1`] },
      nodata(`fd00--1.default.pod.${Z}`, 'A'),
      nx(`not-an-ip.default.pod.${Z}`), nx(`10-1-0-300.default.pod.${Z}`),
      nx(`10-1-0-1.missing.pod.${Z}`),
      nodata(`default.pod.${Z}`),
      // D9: one extra label left of the pod label is ignored.
      a(`x.10-1-0-1.default.pod.${Z}`, '10.1.0.1'),
      // Pods get no PTR (10.1.0.9 is a pod, not an endpoint).
      { name: '9.0.1.10.in-addr.arpa.', type: 'PTR', rcode: 'NXDOMAIN', authority: [soa('in-addr.arpa.')] },
    ], true));

    it('no client search list without pods verified', () => {
      assert.equal(handlerOf(srv).searchPathFor('10.1.0.1'), null);
    });
  });

  describe('pods verified', () => {
    let srv: ClusterServer;
    before(async () => { srv = await startCluster(testCluster(), { options: ['pods verified'] }); });
    after(() => srv.stop());

    it('only IPs of pods in that namespace that are not finished or being deleted', () => checkAll(srv, [
      a(`10-1-0-1.default.pod.${Z}`, '10.1.0.1'),
      a(`10-1-0-7.default.pod.${Z}`, '10.1.0.7'), // Pending: readiness does not matter
      nx(`10-1-0-9.default.pod.${Z}`), // Succeeded
      nx(`10-1-0-8.default.pod.${Z}`), // being deleted
      nx(`10-1-0-1.shared.pod.${Z}`), // another namespace
      nx(`192-0-2-55.default.pod.${Z}`),
      a(`10-2-0-10.shared.pod.${Z}`, '10.2.0.10'),
      // D12: only the primary IP is verified.
      nx(`fd00--2-10.shared.pod.${Z}`, 'AAAA'),
    ], true));

    it('C25: the search list of a client pod is its namespace, svc, the zone', () => {
      const h = handlerOf(srv);
      assert.deepEqual(h.searchPathFor('10.1.0.1'), [`default.svc.${Z}`, `svc.${Z}`, Z]);
      assert.deepEqual(h.searchPathFor('10.2.0.10', `nginx.default.svc.${Z}`), [`shared.svc.${Z}`, `svc.${Z}`, Z]);
      assert.deepEqual(h.searchPathFor('::ffff:10.1.0.7'), [`default.svc.${Z}`, `svc.${Z}`, Z]);
      assert.equal(h.searchPathFor('10.1.0.9'), null, 'finished pod');
      assert.equal(h.searchPathFor('10.1.0.8'), null, 'pod being deleted');
      assert.equal(h.searchPathFor('192.0.2.1'), null, 'not a pod');
      assert.equal(h.searchPathFor('10.1.0.1', 'example.org.'), null, 'query outside the zones');
    });
  });
});

describe('C23/O14/O17 before the first sync', () => {
  let api: FakeApiServer;
  let url: string;
  before(async () => {
    api = new FakeApiServer();
    ({ url } = await api.start());
    for (const o of [ns('default'), svc('default', 'nginx', ['10.96.0.20'], [{ name: 'http', port: 80 }])]) api.create(o as unknown as KubeObject);
    await api.kill(); // unreachable until restart()
  });
  after(() => api.stop());

  it('waits startup_timeout, serves SERVFAIL for would-be NXDOMAIN, then answers once synced', async () => {
    const corefile = `.:0 {\n  bind 127.0.0.1\n  whoami\n  kubernetes cluster.local other.local in-addr.arpa {\n    endpoint ${url}\n    startup_timeout 1200ms\n    fallthrough other.local\n  }\n}\n`;
    const s = await startServer(corefile);
    try {
      // That startup waited for the timeout is told by the log: the server starts unsynced only once it ran out.
      const waiting = s.logs.filter((l) => l === '[INFO] plugin/kubernetes: waiting for Kubernetes API before starting server');
      assert.ok(waiting.length >= 1, s.logs.join('\n'));
      assert.ok(s.logs.includes('[WARNING] plugin/kubernetes: starting server with unsynced Kubernetes API'));
      assert.deepEqual(s.app.services.readiness.notReady(), ['kubernetes']);

      const q = (name: string, type: string) => inject(s.app, name, type);
      const missing = await q(`missing.default.svc.${Z}`, 'A');
      assert.equal(missing.rcode, 2, 'SERVFAIL');
      assert.equal(missing.authority[0]?.type, 6, 'with the SOA');
      assert.equal((await q(`dns-version.${Z}`, 'TXT')).answer.length, 1);
      assert.equal((await q(Z, 'SOA')).answer.length, 1);
      const svcApex = await q(`svc.${Z}`, 'A');
      assert.deepEqual([svcApex.rcode, svcApex.answer.length], [0, 0]);
      // Fallthrough is considered first: the name goes on to whoami.
      const through = await q(`missing.default.svc.other.local.`, 'A');
      assert.equal(through.rcode, 0);
      assert.ok(through.additional.some((r) => r.name === '_udp.missing.default.svc.other.local.'));

      await api.restart();
      await waitUntil(() => s.app.services.readiness.notReady().length === 0, { timeoutMs: 15_000, intervalMs: 50, message: 'never synced' });
      assert.equal((await q(`missing.default.svc.${Z}`, 'A')).rcode, 3, 'NXDOMAIN once synced');
      assert.deepEqual((await q(`nginx.default.svc.${Z}`, 'A')).answer.map((r) => r.data.join('.')), ['10.96.0.20']);
    } finally {
      await s.stop();
    }
  });
});

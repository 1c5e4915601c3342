/**
 * @module test/live/live-records.test
 * The live API source end to end, with real dig: a clusterdns server whose
 * kubernetes block reaches a fake API server through a kubeconfig (HTTPS,
 * the test CA, a bearer token) or a plain-HTTP `endpoint`, and objects
 * created, updated and deleted through the API while it serves. Services
 * (appear once the watch delivers them, ClusterIP and port changes, deletes),
 * EndpointSlices of a headless service (A, SRV, hostnames, PTR),
 * Namespaces, Pods with `pods verified`, and `labels`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { namespaceObject, podObject, serviceObject } from '../support/fake-objects.ts';
import { ns, slice, svc } from '../support/k8s-objects.ts';
import { dig } from '../support/harness.ts';
import { answers, digUntil, kube, startLive } from './live-support.ts';

const Z = 'cluster.local.';

describe('live API source behind a running server (dig)', () => {
  it('a Service created through the API answers; ClusterIP and port changes follow; delete is NXDOMAIN', async () => {
    const live = await startLive({ objects: [namespaceObject('default'), namespaceObject('prod')] });
    try {
      assert.equal((await dig(live.port, 'A', `web.prod.svc.${Z}`)).status, 'NXDOMAIN');
      live.api.create(kube(svc('prod', 'web', ['10.96.0.10'], [{ name: 'http', port: 80 }])));
      const r = await digUntil(live.port, ['A', `web.prod.svc.${Z}`], (x) => x.status === 'NOERROR');
      assert.deepEqual(answers(r), ['10.96.0.10']);
      assert.ok(r.flags.includes('aa'));
      assert.deepEqual(answers(await dig(live.port, 'SRV', `_http._tcp.web.prod.svc.${Z}`)), [`0 100 80 web.prod.svc.${Z}`]);

      // ClusterIP change (dual-stack) and a new named port.
      live.api.update(kube(svc('prod', 'web', ['10.96.0.11', 'fd00::b'], [{ name: 'http', port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }])));
      await digUntil(live.port, ['A', `web.prod.svc.${Z}`], (x) => answers(x).join() === '10.96.0.11');
      assert.deepEqual(answers(await dig(live.port, 'AAAA', `web.prod.svc.${Z}`)), ['fd00::b']);
      assert.deepEqual(answers(await dig(live.port, 'SRV', `_http._tcp.web.prod.svc.${Z}`)), [`0 50 8080 web.prod.svc.${Z}`], 'dual-stack: weight over both addresses');
      assert.deepEqual(answers(await dig(live.port, 'SRV', `_dns._udp.web.prod.svc.${Z}`)), [`0 50 53 web.prod.svc.${Z}`]);
      assert.deepEqual(answers(await dig(live.port, 'PTR', '11.0.96.10.in-addr.arpa.')), [`web.prod.svc.${Z}`]);
      assert.equal((await dig(live.port, 'PTR', '10.0.96.10.in-addr.arpa.')).status, 'NXDOMAIN', 'the old ClusterIP PTR is gone');

      live.api.delete('Service', 'prod', 'web');
      const gone = await digUntil(live.port, ['A', `web.prod.svc.${Z}`], (x) => x.status === 'NXDOMAIN');
      assert.equal(gone.authority[0]?.type, 'SOA');
      assert.equal((await dig(live.port, 'PTR', '11.0.96.10.in-addr.arpa.')).status, 'NXDOMAIN');
    } finally {
      await live.stop();
    }
  });

  it('EndpointSlices of a headless service: add, update, delete (A, SRV, endpoint hostnames, PTR)', async () => {
    const live = await startLive({ objects: [ns('shop'), svc('shop', 'db', 'None', [{ name: 'pg', port: 5432 }])] });
    try {
      const name = `db.shop.svc.${Z}`;
      assert.equal((await dig(live.port, 'A', name)).status, 'NXDOMAIN', 'headless without endpoints');
      live.api.create(kube(slice('shop', 'db-a', 'db', [{ ip: '10.1.0.1', hostname: 'primary' }, { ip: '10.1.0.2' }], [{ name: 'pg', port: 5432 }])));
      await digUntil(live.port, ['A', name], (x) => answers(x).join() === '10.1.0.1,10.1.0.2');
      assert.deepEqual(answers(await dig(live.port, 'A', `primary.${name}`)), ['10.1.0.1']);
      assert.deepEqual(answers(await dig(live.port, 'A', `10-1-0-2.${name}`)), ['10.1.0.2']);
      const srv = await dig(live.port, 'SRV', `_pg._tcp.${name}`);
      assert.deepEqual(answers(srv), [`0 50 5432 10-1-0-2.${name}`, `0 50 5432 primary.${name}`]);
      assert.deepEqual(srv.additional.filter((a) => a.type === 'A').map((a) => `${a.name} ${a.data}`).sort(), [`10-1-0-2.${name} 10.1.0.2`, `primary.${name} 10.1.0.1`]);
      assert.deepEqual(answers(await dig(live.port, 'PTR', '1.0.1.10.in-addr.arpa.')), [`primary.${name}`]);

      // Update: one endpoint not ready any more, another added in a second slice.
      live.api.update(kube(slice('shop', 'db-a', 'db', [{ ip: '10.1.0.1', hostname: 'primary' }, { ip: '10.1.0.2', ready: false }], [{ name: 'pg', port: 5432 }])));
      live.api.create(kube(slice('shop', 'db-b', 'db', [{ ip: '10.1.0.3', hostname: 'replica' }], [{ name: 'pg', port: 5432 }])));
      await digUntil(live.port, ['A', name], (x) => answers(x).join() === '10.1.0.1,10.1.0.3');
      assert.equal((await dig(live.port, 'A', `10-1-0-2.${name}`)).status, 'NXDOMAIN');
      assert.equal((await dig(live.port, 'PTR', '2.0.1.10.in-addr.arpa.')).status, 'NXDOMAIN');
      assert.deepEqual(answers(await dig(live.port, 'PTR', '3.0.1.10.in-addr.arpa.')), [`replica.${name}`]);

      live.api.delete('EndpointSlice', 'shop', 'db-a');
      await digUntil(live.port, ['A', name], (x) => answers(x).join() === '10.1.0.3');
      assert.equal((await dig(live.port, 'A', `primary.${name}`)).status, 'NXDOMAIN');
      assert.equal((await dig(live.port, 'PTR', '1.0.1.10.in-addr.arpa.')).status, 'NXDOMAIN');
      live.api.delete('EndpointSlice', 'shop', 'db-b');
      await digUntil(live.port, ['A', name], (x) => x.status === 'NXDOMAIN');
    } finally {
      await live.stop();
    }
  });

  it('deleting a Namespace makes its names NXDOMAIN; creating it again brings them back', async () => {
    const live = await startLive({ objects: [ns('team'), svc('team', 'api', ['10.96.1.1'], [{ name: 'http', port: 80 }])] });
    try {
      assert.deepEqual(answers(await dig(live.port, 'A', `api.team.svc.${Z}`)), ['10.96.1.1']);
      live.api.delete('Namespace', '', 'team');
      await digUntil(live.port, ['A', `api.team.svc.${Z}`], (x) => x.status === 'NXDOMAIN');
      assert.equal((await dig(live.port, 'SRV', `_http._tcp.api.team.svc.${Z}`)).status, 'NXDOMAIN');
      live.api.create(kube(ns('team')));
      await digUntil(live.port, ['A', `api.team.svc.${Z}`], (x) => answers(x).join() === '10.96.1.1');
    } finally {
      await live.stop();
    }
  });

  it('pods verified: a running Pod\'s record appears and disappears; a Succeeded Pod is not answered', async () => {
    const live = await startLive({ options: ['pods verified'], objects: [namespaceObject('jobs')] });
    try {
      const podName = `10-1-2-3.jobs.pod.${Z}`;
      assert.equal((await dig(live.port, 'A', podName)).status, 'NXDOMAIN');
      live.api.create(podObject('jobs', 'worker', '10.1.2.3'));
      await digUntil(live.port, ['A', podName], (x) => answers(x).join() === '10.1.2.3');
      // The pod finishes: the watch's field selector turns the update into a delete.
      live.api.update(podObject('jobs', 'worker', '10.1.2.3', { phase: 'Succeeded' }));
      await digUntil(live.port, ['A', podName], (x) => x.status === 'NXDOMAIN');
      // A pod that is already Succeeded never answers; a running one created after it does.
      live.api.create(podObject('jobs', 'done', '10.1.2.4', { phase: 'Succeeded' }));
      live.api.create(podObject('jobs', 'next', '10.1.2.5'));
      await digUntil(live.port, ['A', `10-1-2-5.jobs.pod.${Z}`], (x) => x.status === 'NOERROR');
      assert.equal((await dig(live.port, 'A', `10-1-2-4.jobs.pod.${Z}`)).status, 'NXDOMAIN');
      live.api.delete('Pod', 'jobs', 'next');
      await digUntil(live.port, ['A', `10-1-2-5.jobs.pod.${Z}`], (x) => x.status === 'NXDOMAIN');
    } finally {
      await live.stop();
    }
  });

  it('labels: only matching Services exist, also when a label changes; the selector is sent to the API server', async () => {
    const live = await startLive({
      options: ['labels app=web'],
      objects: [
        namespaceObject('prod'),
        serviceObject('prod', 'front', '10.96.2.1', { labels: { app: 'web' } }),
        serviceObject('prod', 'db', '10.96.2.2', { labels: { app: 'db' } }),
      ],
    });
    try {
      assert.deepEqual(answers(await dig(live.port, 'A', `front.prod.svc.${Z}`)), ['10.96.2.1']);
      assert.equal((await dig(live.port, 'A', `db.prod.svc.${Z}`)).status, 'NXDOMAIN');
      live.api.update(serviceObject('prod', 'db', '10.96.2.2', { labels: { app: 'web' } }));
      live.api.update(serviceObject('prod', 'front', '10.96.2.1', { labels: { app: 'other' } }));
      await digUntil(live.port, ['A', `db.prod.svc.${Z}`], (x) => x.status === 'NOERROR');
      await digUntil(live.port, ['A', `front.prod.svc.${Z}`], (x) => x.status === 'NXDOMAIN');
      const services = live.api.requestLog.filter((r) => r.path === '/api/v1/services');
      assert.ok(services.length >= 2 && services.every((r) => r.query.labelSelector === 'app=web'));
      assert.ok(live.api.requestLog.every((r) => r.authorization === 'Bearer live-test-token'));
    } finally {
      await live.stop();
    }
  });

  it('plain HTTP `endpoint URL` (no kubeconfig, no credentials)', async () => {
    const live = await startLive({ plainEndpoint: true, objects: [namespaceObject('default')] });
    try {
      live.api.create(serviceObject('default', 'proxy', '10.96.3.1'));
      await digUntil(live.port, ['A', `proxy.default.svc.${Z}`], (x) => answers(x).join() === '10.96.3.1');
      assert.ok(live.api.url.startsWith('http://'));
      assert.ok(live.api.requestLog.every((r) => r.authorization === null));
      assert.ok(live.logs.some((l) => l.includes(`watching Namespace, Service, EndpointSlice at ${live.api.url}`)));
    } finally {
      await live.stop();
    }
  });
});


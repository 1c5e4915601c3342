/**
 * @module plugins/autopath/autopath.test
 * autopath through real UDP sockets: `dig -b 127.0.0.X` impersonates a pod
 * (its source address is the pod's IP in the manifests), with `pods insecure`
 * so only the compact pod-IP index knows the pods. Checks the answer, the
 * synthesized CNAME, coredns_autopath_success_total, a pod of another
 * namespace, a non-pod client, a finished pod and an address reused by a
 * newer pod; then the resolv.conf form and option errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dig, startServer } from '../../../test/support/harness.ts';
import { startCluster } from '../../../test/support/k8s-dns.ts';
import { ns, pod, svc } from '../../../test/support/k8s-objects.ts';
import { startFakeUpstream } from '../../../test/support/fake-upstream.ts';
import { makeTempDir, removeDir } from '../../../test/support/kubeconfig.ts';
import { scrape, total } from '../../../test/ops/ops-support.ts';
import { rrs } from '../../dns/rr.ts';
import { Rcode } from '../../dns/constants.ts';

const Z = 'cluster.local';

function withVersion(o: Record<string, unknown>, rv: string): Record<string, unknown> {
  return { ...o, metadata: { ...(o.metadata as object), resourceVersion: rv } };
}

test('autopath @kubernetes with pods insecure: answer, CNAME, metric, other namespace, IP reuse', async () => {
  const upstream = await startFakeUpstream((q) => (q.name === 'ext.example.'
    ? { reply: { answer: [rrs.a(q.name, 60, '192.0.2.80')] } }
    : { reply: { rcode: Rcode.NXDOMAIN } }));
  const srv = await startCluster([
    ns('shop'), ns('ops'),
    svc('shop', 'api', ['10.96.1.1']), svc('ops', 'db', ['10.96.2.2']),
    pod('shop', 'web', ['127.0.0.2']),
    pod('ops', 'tool', ['127.0.0.3']),
    pod('ops', 'batch', ['127.0.0.4'], { phase: 'Succeeded' }),
    // 127.0.0.5: an ops pod that still looks Running, and the newer shop pod that got its address.
    withVersion(pod('ops', 'old', ['127.0.0.5']), '100'),
    withVersion(pod('shop', 'new', ['127.0.0.5']), '200'),
  ], { zones: Z, options: ['pods insecure'], extra: ['prometheus 127.0.0.1:0', 'autopath @kubernetes', `forward . ${upstream.address}`] });
  try {
    const asPod = (ip: string, name: string) => dig(srv.port, '-b', ip, name, 'A');

    // A Service of another namespace, asked the way a shop pod's resolver asks first.
    const other = await asPod('127.0.0.2', `db.ops.shop.svc.${Z}`);
    assert.equal(other.status, 'NOERROR');
    assert.deepEqual(other.answer.map((r) => [r.name, r.type, r.data]), [
      [`db.ops.shop.svc.${Z}.`, 'CNAME', `db.ops.svc.${Z}.`],
      [`db.ops.svc.${Z}.`, 'A', '10.96.2.2'],
    ]);
    assert.equal(other.answer[0]!.ttl, other.answer[1]!.ttl, 'the CNAME has the answer\'s TTL');

    // An external name: every cluster suffix is NXDOMAIN, the name as written answers through forward.
    const ext = await asPod('127.0.0.2', `ext.example.shop.svc.${Z}`);
    assert.deepEqual(ext.answer.map((r) => [r.name, r.type, r.data]), [
      [`ext.example.shop.svc.${Z}.`, 'CNAME', 'ext.example.'],
      ['ext.example.', 'A', '192.0.2.80'],
    ]);

    // The first element answers itself: no CNAME needed.
    const own = await asPod('127.0.0.2', `api.shop.svc.${Z}`);
    assert.deepEqual(own.answer.map((r) => [r.name, r.type, r.data]), [[`api.shop.svc.${Z}.`, 'A', '10.96.1.1']]);

    // A pod in ops walks from ops.svc: a shop-suffixed question is not its search path, so no walk.
    const opsPod = await asPod('127.0.0.3', `db.ops.shop.svc.${Z}`);
    assert.equal(opsPod.status, 'NXDOMAIN');
    assert.deepEqual(opsPod.answer, []);
    const opsWalk = await asPod('127.0.0.3', `api.shop.ops.svc.${Z}`);
    assert.deepEqual(opsWalk.answer.map((r) => r.type), ['CNAME', 'A']);
    assert.equal(opsWalk.answer[0]!.data, `api.shop.svc.${Z}.`);

    // Not a pod, and a finished pod: no search path, the plain answer.
    assert.equal((await asPod('127.0.0.1', `db.ops.shop.svc.${Z}`)).status, 'NXDOMAIN');
    assert.equal((await asPod('127.0.0.4', `db.ops.ops.svc.${Z}`)).status, 'NXDOMAIN', 'a Succeeded pod\'s address counts for nobody');

    // The reused address belongs to the newer shop pod.
    const reused = await asPod('127.0.0.5', `db.ops.shop.svc.${Z}`);
    assert.deepEqual(reused.answer.map((r) => r.type), ['CNAME', 'A']);
    assert.equal((await asPod('127.0.0.5', `api.shop.ops.svc.${Z}`)).status, 'NXDOMAIN', 'not the old ops pod\'s path');

    // Nothing found anywhere: the first reply unchanged (the client walks itself), and no success counted.
    const none = await asPod('127.0.0.2', `nothing.here.shop.svc.${Z}`);
    assert.equal(none.status, 'NXDOMAIN');
    assert.deepEqual(none.answer, []);
    assert.ok(upstream.count('nothing.here.') >= 1, 'the walk reached the name as written');

    const m = await scrape(srv.server.app.services.http.port('127.0.0.1:0')!);
    assert.equal(total(m, 'coredns_autopath_success_total', { server: 'dns://127.0.0.1:0' }), 5, 'one per walk that found an answer, under the block\'s server label');
  } finally {
    await srv.stop();
    await upstream.close();
  }
});

test('autopath RESOLV-CONF: the file\'s search list, the last search or domain line', async () => {
  const dir = await makeTempDir('clusterdns-autopath-');
  const upstream = await startFakeUpstream((q) => (q.name === 'www.corp.example.'
    ? { reply: { answer: [rrs.a(q.name, 30, '192.0.2.9')] } }
    : { reply: { rcode: Rcode.NXDOMAIN } }));
  try {
    writeFileSync(join(dir, 'resolv.conf'), 'domain ignored.example\nsearch a.example corp.example\nnameserver 192.0.2.53\n');
    const srv = await startServer(`.:0 {\n  bind 127.0.0.1\n  autopath ${join(dir, 'resolv.conf')}\n  forward . ${upstream.address}\n}\n`);
    try {
      const r = await dig(srv.port, 'www.a.example', 'A');
      assert.deepEqual(r.answer.map((x) => [x.name, x.type, x.data]), [
        ['www.a.example.', 'CNAME', 'www.corp.example.'],
        ['www.corp.example.', 'A', '192.0.2.9'],
      ]);
      // Not ending in the first element: passed on untouched.
      assert.equal((await dig(srv.port, 'www.corp.example', 'A')).answer.length, 1);
      assert.equal(upstream.count('www.a.example.'), 1);
    } finally {
      await srv.stop();
    }
  } finally {
    await upstream.close();
    await removeDir(dir);
  }
});

test('autopath option errors name the file and line', async () => {
  const cases: [string, RegExp][] = [
    ['autopath', /Corefile:3: plugin\/autopath: 'autopath' takes at least 1 arguments?, got 0/],
    ['autopath @etcd', /Corefile:3: plugin\/autopath: unknown plugin: etcd/],
    ['autopath @kubernetes', /Corefile:3: plugin\/autopath: autopath @kubernetes needs the kubernetes plugin in the same server block/],
    ['autopath /nonexistent/resolv.conf', /Corefile:3: plugin\/autopath: failed to parse "\/nonexistent\/resolv.conf"/],
  ];
  for (const [line, want] of cases) {
    await assert.rejects(startServer(`.:0 {\n  bind 127.0.0.1\n  ${line}\n  whoami\n}\n`), want, line);
  }
});

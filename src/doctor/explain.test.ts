/**
 * @module doctor/explain.test
 * `clusterdns explain` through the real CLI against a real server: the
 * whole search walk in order, each query's answer and the plugin that
 * answered (the `explain` side channel, cache hits included), the totals
 * and the advice; a pod file's resolv.conf; a server without the side channel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputDir, runCliAsync } from '../../test/support/cli.ts';
import { startFakeUpstream } from '../../test/support/fake-upstream.ts';
import { startCluster } from '../../test/support/k8s-dns.ts';
import { ns, svc } from '../../test/support/k8s-objects.ts';
import { rrs } from '../dns/rr.ts';
import { Rcode } from '../dns/constants.ts';

const files = inputDir('clusterdns-explain-');

/** "N  NAME TYPE  RCODE...  X ms  plugin=P" lines, without the times. */
function steps(out: string): string[] {
  return out.split('\n').filter((l) => /^\s+\d+  /.test(l)).map((l) => l.trim().replace(/  \d+\.\d ms  /, '  '));
}

test('explain: the walk, each answer and the plugin that gave it, totals and advice', async () => {
  const up = await startFakeUpstream((q) => (q.name === 'www.example.com.'
    ? { reply: { answer: [rrs.a(q.name, 60, '192.0.2.10')] } } : { reply: { rcode: Rcode.NXDOMAIN } }));
  const srv = await startCluster([ns('shop'), ns('ops'), svc('shop', 'api', ['10.96.1.1']), svc('ops', 'db', ['10.96.2.2'])], {
    zones: 'cluster.local', extra: ['explain', 'cache 30', `forward . ${up.address}`],
  });
  try {
    const server = `127.0.0.1:${srv.port}`;
    const first = await runCliAsync(['explain', 'www.example.com', '--namespace', 'shop', '--server', server]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^www\.example\.com A as a pod in shop asks it: search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local, ndots:5; server 127\.0\.0\.1:\d+$/m);
    assert.deepEqual(steps(first.stdout), [
      '1  www.example.com.shop.svc.cluster.local. A  NXDOMAIN  plugin=kubernetes',
      '2  www.example.com.svc.cluster.local. A  NXDOMAIN  plugin=kubernetes',
      '3  www.example.com.cluster.local. A  NXDOMAIN  plugin=kubernetes',
      '4  www.example.com. A  NOERROR, 1 record  plugin=forward',
    ]);
    assert.match(first.stdout, /^total: 4 queries in \d+\.\d ms/m);
    assert.match(first.stdout, /3 of them NXDOMAIN; avoid them with a trailing dot \(www\.example\.com\.\), a lower ndots \(ndots:2 tries it first; now ndots:5\), or autopath on the server/);
    assert.doesNotMatch(first.stdout, /plugin=\?/);

    // The same walk again: the forwarded answer is now a cache hit, and the server says so; the kubernetes
    // plugin's answers are kept by it and pass the cache (cache/README.md), so it gives them again.
    const again = await runCliAsync(['explain', 'www.example.com', '--namespace', 'shop', '--server', server]);
    assert.deepEqual(steps(again.stdout).map((s) => s.replace(/.*plugin=/, '')), ['kubernetes', 'kubernetes', 'kubernetes', 'cache']);

    // A Service of another namespace, from a pod file (a Deployment in shop): found on the second try.
    const deploy = files.write('web.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec: {}\n');
    const other = await runCliAsync(['explain', 'db.ops', '--pod', deploy, '--server', server]);
    assert.equal(other.status, 0);
    assert.deepEqual(steps(other.stdout), [
      '1  db.ops.shop.svc.cluster.local. A  NXDOMAIN  plugin=kubernetes',
      '2  db.ops.svc.cluster.local. A  NOERROR, 1 record  plugin=kubernetes',
    ]);
    assert.match(other.stdout, /avoid them by asking for db\.ops\.svc\.cluster\.local\. \(full name, trailing dot\)/);
  } finally {
    await srv.stop();
    await up.close();
  }
});

test('explain against a server without the side channel, and a name nothing answers', async () => {
  const srv = await startCluster([ns('shop')], { zones: 'cluster.local' });
  try {
    const r = await runCliAsync(['explain', 'nope', '--namespace', 'shop', '--server', `127.0.0.1:${srv.port}`, '--timeout', '500']);
    assert.equal(r.status, 1, 'no answer at the end of the walk');
    assert.equal(steps(r.stdout).length, 4, 'three search domains and the name as written');
    assert.ok(steps(r.stdout).every((s) => s.endsWith('plugin=?')));
    assert.match(r.stdout, /every one NXDOMAIN/);
    assert.match(r.stdout, /the server has no `explain` in this server block/);
    const bad = await runCliAsync(['explain', '--type', 'A']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /NAME is required/);
  } finally {
    await srv.stop();
  }
});

/**
 * @module plugins/metadata/metadata.test
 * metadata: with it, log's {/kubernetes/...} placeholders and template's
 * .Meta print what the kubernetes plugin knows about the client and the
 * name, and forward the upstream that answered; without it they print '-'
 * and '' and requests carry no map.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { inject, startServer } from '../../../test/support/harness.ts';
import { rrLine } from '../../../test/support/k8s-dns.ts';
import { startFakeUpstream } from '../../../test/support/fake-upstream.ts';
import { rrs } from '../../dns/rr.ts';

function corefile(withMetadata: boolean): string {
  return `.:0 {
  bind 127.0.0.1
  ${withMetadata ? 'metadata' : ''}
  log . "{name} ns={/kubernetes/client-namespace} pod={/kubernetes/client-pod-name} svc={/kubernetes/service} kind={/kubernetes/kind}"
  template IN TXT meta.test {
    answer "{{ .Name }} 5 IN TXT \\"{{ .Meta \\"kubernetes/client-namespace\\" }}\\""
  }
  kubernetes cluster.local {
    manifests examples/cluster
    pods verified
  }
}`;
}

it('log and template see the client pod namespace and the service asked for', async () => {
  const s = await startServer(corefile(true));
  try {
    const client = s.app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'kubernetes') as unknown as { index: { store: { pods(): Iterable<{ ip: string | null; namespace: string; name: string }> } } };
    const pod = [...client.index.store.pods()].find((p) => p.ip !== null)!;
    await inject(s.app, 'nginx.default.svc.cluster.local.', 'A', { remoteAddress: pod.ip! });
    const line = s.logs.find((l) => l.includes('nginx.default.svc.cluster.local.'));
    assert.equal(line?.replace(/^.*\] /, ''), `nginx.default.svc.cluster.local. ns=${pod.namespace} pod=${pod.name} svc=nginx kind=svc`);
    const m = await inject(s.app, 'meta.test.', 'TXT', { remoteAddress: pod.ip! });
    assert.deepEqual(m.answer.map(rrLine), [`meta.test. 5 IN TXT "${pod.namespace}"`]);
  } finally { await s.stop(); }
});

it('without metadata the placeholders print - and .Meta is empty', async () => {
  const s = await startServer(corefile(false));
  try {
    await inject(s.app, 'nginx.default.svc.cluster.local.', 'A');
    assert.ok(s.logs.some((l) => l.endsWith('nginx.default.svc.cluster.local. ns=- pod=- svc=- kind=-')), s.logs.join('\n'));
    const m = await inject(s.app, 'meta.test.', 'TXT');
    assert.deepEqual(m.answer.map(rrLine), ['meta.test. 5 IN TXT ""']);
  } finally { await s.stop(); }
});

it('forward publishes forward/upstream: the upstream that answered, also for a query that joined it in flight', async () => {
  const up = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '192.0.2.7')] }, delayMs: 20 }));
  const s = await startServer(`.:0 {
  bind 127.0.0.1
  metadata
  log . "{name} via={/forward/upstream}"
  forward . ${up.address}
}`);
  try {
    // Two identical questions at once: the second is coalesced onto the first's upstream query.
    const [a, b] = await Promise.all([inject(s.app, 'ext.example.', 'A'), inject(s.app, 'ext.example.', 'A')]);
    assert.deepEqual([a.answer.map(rrLine), b.answer.map(rrLine)], [['ext.example. 60 IN A 192.0.2.7'], ['ext.example. 60 IN A 192.0.2.7']]);
    assert.equal(up.count('ext.example.'), 1, 'one upstream query for both');
    const lines = s.logs.filter((l) => l.includes('ext.example.')).map((l) => l.replace(/^.*\] /, ''));
    assert.deepEqual(lines, [`ext.example. via=${up.address}`, `ext.example. via=${up.address}`]);
  } finally { await s.stop(); await up.close(); }
});

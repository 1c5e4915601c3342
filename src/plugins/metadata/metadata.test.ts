/**
 * @module plugins/metadata/metadata.test
 * metadata: with it, log's {/kubernetes/...} placeholders and template's
 * .Meta print what the kubernetes plugin knows about the client and the
 * name; without it they print '-' and '' and requests carry no map.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { inject, startServer } from '../../../test/support/harness.ts';
import { rrLine } from '../../../test/support/k8s-dns.ts';

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

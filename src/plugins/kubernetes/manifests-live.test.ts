/**
 * @module plugins/kubernetes/manifests-live.test
 * The `manifests` source behind a running server: editing a file changes
 * the answers without a restart (checked with dig), bad documents are
 * reported as "FILE:LINE: KIND NS/NAME: problem" and skipped while the rest
 * keeps answering, a file broken at runtime keeps its objects (last good
 * state, issue 17), and a re-read switches every answer at once: sampled during the
 * change, a pair of services from two files is always both old or both new.
 */
import assert from 'node:assert/strict';
import { rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { checkDig, soa, startCluster } from '../../../test/support/k8s-dns.ts';
import { ns, svc } from '../../../test/support/k8s-objects.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import type { KubernetesHandler } from './handler.ts';
import { Reply } from '../../dns/reply.ts';

const Z = 'cluster.local.';

function firstAddress(a: unknown): string | null {
  if (!(a instanceof Reply) || a.answer.length === 0) return null;
  return a.answer[0]!.data.join('.');
}

describe('manifests behind a running server', () => {
  it('an edited manifest changes the answers without a restart', async () => {
    const srv = await startCluster([ns('default'), svc('default', 'web', ['10.96.0.1'], [{ name: 'http', port: 80 }])]);
    try {
      await checkDig(srv, { name: `web.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`web.default.svc.${Z} 5 IN A 10.96.0.1`] });
      await writeFile(join(srv.dir, 'cluster.yaml'), stringify(svc('default', 'web', ['10.96.0.2'], [{ name: 'http', port: 80 }])));
      await waitUntil(() => srv.logs.some((l) => l.includes('manifests: re-read')), { timeoutMs: 5000, message: 'no re-read' });
      await checkDig(srv, { name: `web.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`web.default.svc.${Z} 5 IN A 10.96.0.2`] });
      // A new file adds a service; deleting its document removes it again, and so does deleting the file.
      await writeFile(join(srv.dir, 'more.yml'), stringify(svc('default', 'api', ['10.96.0.3'])));
      await waitUntil(() => srv.logs.filter((l) => l.includes('manifests: re-read')).length >= 2, { timeoutMs: 5000 });
      await checkDig(srv, { name: `api.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`api.default.svc.${Z} 5 IN A 10.96.0.3`] });
      await writeFile(join(srv.dir, 'more.yml'), stringify(ns('default')));
      await waitUntil(() => srv.logs.filter((l) => l.includes('manifests: re-read')).length >= 3, { timeoutMs: 5000 });
      await checkDig(srv, { name: `api.default.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [soa()] });
      await writeFile(join(srv.dir, 'more.yml'), stringify(svc('default', 'api', ['10.96.0.4'])));
      await waitUntil(() => srv.logs.filter((l) => l.includes('manifests: re-read')).length >= 4, { timeoutMs: 5000 });
      await checkDig(srv, { name: `api.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`api.default.svc.${Z} 5 IN A 10.96.0.4`] });
      await rm(join(srv.dir, 'more.yml'));
      await waitUntil(() => srv.logs.filter((l) => l.includes('manifests: re-read')).length >= 5, { timeoutMs: 5000 });
      await checkDig(srv, { name: `api.default.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [soa()] });
    } finally {
      await srv.stop();
    }
  });

  it('bad documents are reported and skipped; the server starts and answers the rest', async () => {
    const text = [
      stringify(svc('default', 'good', ['10.96.0.5'])),
      stringify(svc('default', 'bad-ip', ['10.96.0.300'])),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\n',
      'kind: Service\nmetadata: {name: broken\n',
    ].join('---\n');
    const srv = await startCluster(text);
    try {
      const file = join(srv.dir, 'cluster.yaml');
      const warnings = srv.logs.filter((l) => l.startsWith('[WARNING] plugin/kubernetes:'));
      assert.deepEqual(warnings, [
        `[WARNING] plugin/kubernetes: ${file}:13: Service default/bad-ip: invalid clusterIP "10.96.0.300"`,
        `[WARNING] plugin/kubernetes: ${file}:25: ConfigMap default/settings: unsupported kind (want Namespace, Service, EndpointSlice, Endpoints or Pod)`,
      ]);
      assert.deepEqual(srv.logs.filter((l) => l.startsWith('[ERROR] plugin/kubernetes:')), [
        `[ERROR] plugin/kubernetes: ${file}:31: Flow map in block collection must be sufficiently indented and end with a }; using the 1 objects of the documents that parse`,
      ]);
      await checkDig(srv, { name: `good.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`good.default.svc.${Z} 5 IN A 10.96.0.5`] });
      await checkDig(srv, { name: `bad-ip.default.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [soa()] });
      // Breaking the whole file at runtime: the objects it held keep answering (last good state).
      await writeFile(file, 'kind: [\n');
      await waitUntil(() => srv.logs.some((l) => l.includes('manifests: re-read')), { timeoutMs: 5000 });
      assert.ok(srv.logs.some((l) => l.startsWith(`[ERROR] plugin/kubernetes: ${file}:`) && l.endsWith('keeping the 1 objects read from it before')), srv.logs.join('\n'));
      await checkDig(srv, { name: `good.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`good.default.svc.${Z} 5 IN A 10.96.0.5`] });
    } finally {
      await srv.stop();
    }
  });

  it('a re-read is atomic: answers switch from all-old to all-new, never half', async () => {
    const count = 500;
    const file = (n: number, ip: number): string => Array.from({ length: count }, (_, i) => stringify(svc('default', `s${n}-${i}`, [`10.${100 + n}.${ip}.${i % 250}`]))).join('---\n');
    const srv = await startCluster([ns('default')]);
    try {
      await writeFile(join(srv.dir, 'a.yaml'), file(0, 1));
      await writeFile(join(srv.dir, 'b.yaml'), file(1, 1));
      const h = srv.server.app.server.generation!.blocks[0]!.handlers.find((x) => x.name === 'kubernetes') as KubernetesHandler;
      const pair = (): string => {
        const x = firstAddress(h.index.answer(`s0-0.default.svc.${Z}`, 1, Z));
        const y = firstAddress(h.index.answer(`s1-${count - 1}.default.svc.${Z}`, 1, Z));
        return `${x?.split('.')[2] ?? '-'}/${y?.split('.')[2] ?? '-'}`;
      };
      await waitUntil(() => pair() === '1/1', { timeoutMs: 5000, message: 'first version not served' });
      // Prepare the new version beside, then swap both files in (as a ConfigMap volume update would).
      await writeFile(join(srv.dir, '.a.new'), file(0, 2));
      await writeFile(join(srv.dir, '.b.new'), file(1, 2));
      await rename(join(srv.dir, '.a.new'), join(srv.dir, 'a.yaml'));
      await rename(join(srv.dir, '.b.new'), join(srv.dir, 'b.yaml'));
      // Sample the answers on every turn of the event loop until the new version is served: the
      // re-read's debounce and parse can take a while on a loaded machine, so the bound is 10 s
      // (and a count), not a number of turns that a fast machine happens to need.
      const seen = new Set<string>();
      const deadline = Date.now() + 10_000;
      for (let i = 0; i < 5_000_000 && !seen.has('2/2') && Date.now() < deadline; i++) {
        seen.add(pair());
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(seen.has('2/2'), `new version never served: ${[...seen].join(' ')}`);
      assert.deepEqual([...seen].filter((p) => p !== '1/1' && p !== '2/2'), [], 'no mixed state');
    } finally {
      await srv.stop();
    }
  });

  it('a file replaced by rename with the same size and mtime is read again (the inode changed)', async () => {
    const srv = await startCluster([ns('default')]);
    try {
      const file = join(srv.dir, 'svc.yaml');
      const rereads = (): number => srv.logs.filter((l) => l.includes('manifests: re-read')).length;
      await writeFile(file, stringify(svc('default', 'same', ['10.96.1.1'])));
      await waitUntil(() => rereads() >= 1, { timeoutMs: 5000 });
      await checkDig(srv, { name: `same.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`same.default.svc.${Z} 5 IN A 10.96.1.1`] });
      // Both versions get the same whole-second mtime, as if written in one clock tick.
      const tick = Math.floor(Date.now() / 1000) - 60;
      await utimes(file, tick, tick);
      await waitUntil(() => rereads() >= 2, { timeoutMs: 5000 });
      const next = join(srv.dir, '.svc.new');
      await writeFile(next, stringify(svc('default', 'same', ['10.96.1.2'])));
      await utimes(next, tick, tick);
      const [was, now] = await Promise.all([stat(file), stat(next)]);
      assert.deepEqual([now.size, now.mtimeMs], [was.size, was.mtimeMs]);
      await rename(next, file);
      await waitUntil(() => rereads() >= 3, { timeoutMs: 5000 });
      await checkDig(srv, { name: `same.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`same.default.svc.${Z} 5 IN A 10.96.1.2`] });
    } finally {
      await srv.stop();
    }
  });
});

/**
 * @module test/live/live-in-cluster.test
 * In-cluster configuration, the default when the kubernetes block names no
 * connection: KUBERNETES_SERVICE_HOST/PORT from the environment, the
 * service-account token and CA from files (the directory moved with
 * CLUSTERDNS_SERVICEACCOUNT_DIR), over HTTPS to the fake API server. The CA
 * is really checked; outside a cluster the server refuses to start. (A
 * token rotated on disk is re-read within 60 s, as client-go does: the
 * library's token-file cache, not tested here.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SERVICE_ACCOUNT_DIR_ENV } from '../../src/plugins/kubernetes/source.ts';
import { FakeApiServer } from '../support/fake-apiserver.ts';
import { startServer } from '../support/harness.ts';
import { ns, svc } from '../support/k8s-objects.ts';
import { makeTempDir, removeDir } from '../support/kubeconfig.ts';
import { answers, digUntil, FIXTURES, fixture, kube, liveCorefile } from './live-support.ts';

const Z = 'cluster.local.';
const ENV_KEYS = ['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', SERVICE_ACCOUNT_DIR_ENV] as const;

/** Sets the in-cluster environment of this test process for `fn`, then puts it back. */
async function withEnv(values: Record<(typeof ENV_KEYS)[number], string>, fn: () => Promise<void>): Promise<void> {
  const saved = ENV_KEYS.map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, values);
  try {
    await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The kubernetes block with no endpoint and no kubeconfig: in-cluster. */
const IN_CLUSTER = liveCorefile('startup_timeout 3s');

describe('in-cluster configuration', () => {
  it('env host/port + service-account token and CA: syncs over HTTPS, answers, reconnects with the same credentials', async () => {
    const api = new FakeApiServer({ token: 'sa-token-1', tls: { cert: fixture('server.crt'), key: fixture('server.key') } });
    const { url } = await api.start();
    api.create(kube(ns('kube-system')));
    api.create(kube(svc('kube-system', 'kube-dns', ['10.96.0.10'], [{ name: 'dns', port: 53, protocol: 'UDP' }])));
    const sa = await makeTempDir('clusterdns-sa-');
    await writeFile(path.join(sa, 'token'), 'sa-token-1');
    await copyFile(path.join(FIXTURES, 'ca.crt'), path.join(sa, 'ca.crt'));
    try {
      await withEnv({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(url).port, [SERVICE_ACCOUNT_DIR_ENV]: sa }, async () => {
        const srv = await startServer(IN_CLUSTER);
        try {
          assert.ok(!srv.logs.some((l) => l.includes('unsynced')), srv.logs.join('\n'));
          assert.ok(srv.logs.some((l) => l.includes(`watching Namespace, Service, EndpointSlice at https://127.0.0.1:${new URL(url).port}`)));
          await digUntil(srv.port, ['A', `kube-dns.kube-system.svc.${Z}`], (x) => answers(x).join() === '10.96.0.10', 1000);
          assert.ok(api.requestLog.length >= 6 && api.requestLog.every((r) => r.authorization === 'Bearer sa-token-1'));
          // After a crash of the API server the reconnects authenticate the same way.
          await api.kill();
          api.create(kube(svc('kube-system', 'metrics', ['10.96.0.11'])));
          await api.restart();
          await digUntil(srv.port, ['A', `metrics.kube-system.svc.${Z}`], (x) => answers(x).join() === '10.96.0.11', 10_000);
          assert.ok(api.requestLog.every((r) => r.authorization === 'Bearer sa-token-1'));
        } finally {
          await srv.stop();
        }
      });
    } finally {
      await api.stop();
      await removeDir(sa);
    }
  });

  it('a CA that did not sign the server certificate never syncs: the server starts unsynced and says why', async () => {
    const api = new FakeApiServer({ token: 'sa', tls: { cert: fixture('server.crt'), key: fixture('server.key') } });
    const { url } = await api.start();
    const sa = await makeTempDir('clusterdns-sa-');
    await writeFile(path.join(sa, 'token'), 'sa');
    await copyFile(path.join(FIXTURES, 'client.crt'), path.join(sa, 'ca.crt')); // not a CA of the server
    try {
      await withEnv({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(url).port, [SERVICE_ACCOUNT_DIR_ENV]: sa }, async () => {
        const srv = await startServer(liveCorefile('startup_timeout 1s'));
        try {
          assert.ok(srv.logs.some((l) => l.includes('starting server with unsynced Kubernetes API')));
          const error = srv.logs.find((l) => l.startsWith('[ERROR] plugin/kubernetes:'));
          assert.match(error ?? '', /certificate|verify/i);
          assert.equal(api.requestLog.length, 0, 'no request got through TLS');
        } finally {
          await srv.stop();
        }
      });
    } finally {
      await api.stop();
      await removeDir(sa);
    }
  });

  it('outside a cluster (no KUBERNETES_SERVICE_HOST) the server does not start, and says where', async () => {
    const saved = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      await assert.rejects(startServer(liveCorefile('startup_timeout 1s')), /^CorefileError: Corefile:3: plugin\/kubernetes: not running in a cluster/);
    } finally {
      if (saved !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved;
    }
  });
});

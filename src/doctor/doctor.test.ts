/**
 * @module doctor/doctor.test
 * `clusterdns doctor` through the real CLI against setups broken on purpose:
 * a dead upstream among several, a resolv.conf with four nameservers and
 * ndots:5, a forwarding loop, the API test server stopped (stale state), a
 * server not answering TCP, metrics with a high SERVFAIL ratio; and a
 * healthy setup that yields no fail and no warning; a server in lameduck
 * (a warning, not a failure); with --kubeconfig the API's own view (its
 * kubernetes Service against each DNS pod's answer, the DNS pods' state).
 * Each names its cause by stable id, with a fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputDir, runCliAsync } from '../../test/support/cli.ts';
import { startFakeUpstream } from '../../test/support/fake-upstream.ts';
import { deadPort } from '../../test/support/ports.ts';
import { inject, startServer } from '../../test/support/harness.ts';
import { startCluster } from '../../test/support/k8s-dns.ts';
import { ns, svc } from '../../test/support/k8s-objects.ts';
import { FakeApiServer } from '../../test/support/fake-apiserver.ts';
import { endpointSliceObject, namespaceObject, serviceObject } from '../../test/support/fake-objects.ts';
import { makeTempDir, removeDir, writeKubeconfig } from '../../test/support/kubeconfig.ts';
import { scrape, samples } from '../../test/ops/ops-support.ts';
import { UdpClient } from '../../test/support/udp-client.ts';
import { rrs } from '../dns/rr.ts';
import { Type } from '../dns/constants.ts';

interface Check { id: string; status: string; target: string; summary: string; detail: string; fix: string }

const files = inputDir('clusterdns-doctor-');

async function doctor(args: string[]): Promise<{ status: number | null; checks: Check[]; verdict: string; text: string }> {
  const j = await runCliAsync(['doctor', ...args, '--timeout', '1500', '--json']);
  const parsed = JSON.parse(j.stdout) as { checks: Check[]; verdict: string };
  const t = await runCliAsync(['doctor', ...args, '--timeout', '1500']);
  assert.equal(t.status, j.status, 'text and --json agree on the exit status');
  return { status: j.status, ...parsed, text: t.stdout };
}

const byId = (checks: Check[], id: string): Check[] => checks.filter((c) => c.id === id);

/** An upstream that answers every question (A questions with an address). */
function answering() {
  return startFakeUpstream((q) => ({ reply: { answer: q.type === Type.A ? [rrs.a(q.name, 30, '192.0.2.1')] : [] } }));
}

test('healthy: every check ok, exit 0, no false alarm', async () => {
  const up = await answering();
  const srv = await startCluster([ns('default'), svc('default', 'kubernetes', ['10.96.0.1'])], {
    zones: 'cluster.local in-addr.arpa',
    extra: ['prometheus 127.0.0.1:0', 'health 127.0.0.1:0', 'ready 127.0.0.1:0', 'cache 30', `forward . ${up.address}`],
  });
  try {
    const http = `http://127.0.0.1:${srv.server.app.services.http.port('127.0.0.1:0')}`;
    const corefile = files.write('healthy.Corefile', `.:53 {\n  forward . ${up.address}\n}\n`);
    const resolv = files.write('healthy.resolv', `nameserver ${up.address}\nsearch corp.example\noptions ndots:1\n`);
    const d = await doctor(['--server', `127.0.0.1:${srv.port}`, '--metrics', `${http}/metrics`, '--health', `${http}/health`,
      '--ready', `${http}/ready`, '--corefile', corefile, '--resolv-conf', resolv]);
    assert.equal(d.status, 0, d.text);
    assert.deepEqual(d.checks.filter((c) => c.status !== 'ok').map((c) => `${c.id} ${c.summary}`), []);
    for (const id of ['server.udp', 'server.tcp', 'dns.api-service', 'health', 'ready', 'lameduck', 'metrics.reachable', 'metrics.servfail', 'metrics.nxdomain', 'metrics.reload', 'upstream.probe', 'resolvconf.nameservers', 'resolvconf.search']) {
      assert.equal(byId(d.checks, id).length > 0, true, `${id} ran`);
    }
    assert.match(byId(d.checks, 'dns.api-service')[0]!.summary, /A 10\.96\.0\.1; PTR 1\.0\.96\.10\.in-addr\.arpa\. answers/);
    assert.match(d.text, /^verdict: ok: \d+ checks passed$/m);
  } finally {
    await srv.stop();
    await up.close();
  }
});

test('a dead upstream among several: named, with its fix; the live ones ok', async () => {
  const up = await answering();
  const dead = await deadPort();
  try {
    const corefile = files.write('dead.Corefile', `.:53 {\n  forward . ${up.address} 127.0.0.1:${dead}\n}\n`);
    const d = await doctor(['--corefile', corefile]);
    assert.equal(d.status, 1);
    const probes = byId(d.checks, 'upstream.probe');
    assert.deepEqual(probes.map((c) => [c.target, c.status]), [[up.address, 'ok'], [`127.0.0.1:${dead}`, 'fail']]);
    assert.match(probes[1]!.fix, /^Remove 127\.0\.0\.1:\d+ from forward or repair it/);
    assert.match(d.text, /\[fail\] upstream\.probe 127\.0\.0\.1:\d+: 127\.0\.0\.1:\d+: no answer/);
    assert.match(d.text, /^verdict: fail: 1 failing, 0 warnings$/m);
  } finally {
    await up.close();
  }
});

test('resolv.conf with four nameservers and ndots:5: the ignored one and the amplification', async () => {
  const up = await answering();
  const dead = await deadPort();
  try {
    const resolv = files.write('four.resolv', [
      `nameserver ${up.address}`, `nameserver ${up.address}`, `nameserver ${up.address}`, `nameserver 127.0.0.1:${dead}`,
      'search a.example b.example c.example', 'options ndots:5', '',
    ].join('\n'));
    const d = await doctor(['--resolv-conf', resolv]);
    assert.equal(d.status, 0, 'warnings only');
    const nsCheck = byId(d.checks, 'resolvconf.nameservers')[0]!;
    assert.equal(nsCheck.status, 'warn');
    assert.equal(nsCheck.summary, '4 nameservers; glibc and the kubelet use only the first 3');
    assert.equal(nsCheck.detail, `ignored: 127.0.0.1:${dead}`);
    const deadCheck = byId(d.checks, 'resolvconf.dead')[0]!;
    assert.equal(deadCheck.status, 'warn', 'dead but past the third: ignored anyway');
    const search = byId(d.checks, 'resolvconf.search')[0]!;
    assert.equal(search.status, 'warn');
    assert.match(search.summary, /^ndots:5, 3 search domains: www\.example\.com: 4 tries, 8 queries \(A and AAAA\), 6 of them NXDOMAIN/);
    assert.match(search.fix, /Lower ndots/);
  } finally {
    await up.close();
  }
});

test('a forwarding loop: the Corefile forwards to the server itself', async () => {
  const srv = await startServer('.:0 {\n  bind 127.0.0.1\n  whoami\n}\n');
  try {
    const corefile = files.write('loop.Corefile', `.:53 {\n  forward . 127.0.0.1:${srv.port}\n}\n`);
    const d = await doctor(['--server', `127.0.0.1:${srv.port}`, '--corefile', corefile]);
    assert.equal(d.status, 1);
    const loop = byId(d.checks, 'upstream.loop')[0]!;
    assert.equal(loop.status, 'fail');
    assert.match(loop.summary, /which is this DNS server: a forwarding loop/);
    assert.match(loop.fix, /^Forward to a resolver that is not this server/);
  } finally {
    await srv.stop();
  }
});

test('the API server stopped: stale state named from the metrics', async () => {
  const api = new FakeApiServer();
  const { url } = await api.start();
  api.create(namespaceObject('default'));
  api.create(serviceObject('default', 'kubernetes', '10.96.0.1'));
  const srv = await startServer(`.:0 {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:0\n  kubernetes cluster.local {\n    endpoint ${url}\n  }\n}\n`);
  try {
    const port = srv.app.services.http.port('127.0.0.1:0')!;
    await api.stop();
    // Bounded wait for the reflectors to notice (the metric is what the doctor reads).
    for (let i = 0; i < 100; i++) {
      const m = await scrape(port);
      if (samples(m, 'coredns_kubernetes_api_connected').some((s) => s.value === 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const d = await doctor(['--metrics', `http://127.0.0.1:${port}/metrics`]);
    assert.equal(d.status, 1);
    const k = byId(d.checks, 'metrics.kubernetes')[0]!;
    assert.equal(k.status, 'fail');
    assert.match(k.summary, /^API server unreachable for .*; serving the last known state \(stale \d+ s\)$/);
    assert.match(k.fix, /Restore the path to the API server/);
    // The last known state is still served.
    assert.equal((await inject(srv.app, 'kubernetes.default.svc.cluster.local.', 'A')).answer.length, 1);
  } finally {
    await srv.stop();
  }
});

test('a server not answering TCP', async () => {
  const udpOnly = await startFakeUpstream((q) => (q.transport === 'tcp' ? {} : { reply: { answer: q.type === Type.A ? [rrs.a(q.name, 30, '10.96.0.1')] : [] } }));
  try {
    const d = await doctor(['--server', udpOnly.address]);
    assert.equal(d.status, 1);
    assert.equal(byId(d.checks, 'server.udp')[0]!.status, 'ok');
    const tcp = byId(d.checks, 'server.tcp')[0]!;
    assert.equal(tcp.status, 'fail');
    assert.match(tcp.summary, /^no answer over TCP: no reply over TCP within 1500 ms$/);
    assert.match(tcp.fix, /^Open TCP port \d+ to the DNS pods/);
  } finally {
    await udpOnly.close();
  }
});

test('metrics with a high SERVFAIL ratio', async () => {
  const dead = await deadPort();
  const srv = await startServer(`.:0 {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:0\n  forward . 127.0.0.1:${dead}\n}\n`);
  try {
    for (let i = 0; i < 20; i++) assert.equal((await inject(srv.app, `q${i}.example.`, 'A')).rcode, 2);
    const d = await doctor(['--metrics', `http://127.0.0.1:${srv.app.services.http.port('127.0.0.1:0')}/metrics`]);
    assert.equal(d.status, 1);
    const s = byId(d.checks, 'metrics.servfail')[0]!;
    assert.equal(s.status, 'fail');
    assert.match(s.summary, /^SERVFAIL 100\.0% of 20 responses$/);
    assert.match(s.fix, /upstream/);
  } finally {
    await srv.stop();
  }
});

test('--pod: a hostNetwork pod on ClusterFirst, and the kubelet\'s fallback warnings', async () => {
  const resolv = files.write('node.resolv', 'nameserver 192.0.2.53\nsearch corp.example\n');
  const ds = files.write('ds.yaml', 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: mon}\nspec:\n  template:\n    spec: {hostNetwork: true}\n');
  const web = files.write('web.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec: {}\n');
  // No --server: no cluster DNS address for the kubelet rules, and nothing probed.
  const host = await doctor(['--pod', ds, '--resolv-conf', resolv]);
  const policy = byId(host.checks, 'pod.dnspolicy')[0]!;
  assert.equal(policy.status, 'warn');
  assert.match(policy.fix, /ClusterFirstWithHostNet/);
  const cluster = await doctor(['--pod', web, '--resolv-conf', resolv]);
  assert.deepEqual(byId(cluster.checks, 'pod.kubelet').map((c) => c.summary.split(' ').slice(0, 2).join(' ')), ['Warning MissingClusterDNS', 'Warning MissingClusterDNS'],
    'no cluster DNS given: the kubelet\'s fallback warnings');
});

test('--kubeconfig: DNS pods answer directly but the Service IP does not', async () => {
  const api = new FakeApiServer();
  const { url } = await api.start();
  const dir = await makeTempDir('clusterdns-doctor-kc-');
  const dnsPod = await startCluster([ns('default'), svc('default', 'kubernetes', ['10.96.0.1'])], { zones: 'cluster.local' });
  const dead = await deadPort();
  try {
    // The Service's "ClusterIP" is a loopback address whose port nothing serves: routing to the pods is broken.
    api.create(namespaceObject('kube-system'));
    api.create(serviceObject('kube-system', 'kube-dns', '127.0.0.1', { spec: { ports: [{ name: 'dns', port: dead, protocol: 'UDP' }] } }));
    const slice = endpointSliceObject('kube-system', 'kube-dns-a', 'kube-dns', ['127.0.0.1']);
    api.create({ ...slice, ports: [{ name: 'dns', port: dnsPod.port, protocol: 'UDP' }] });
    const kubeconfig = await writeKubeconfig(dir, { server: url });
    const d = await doctor(['--kubeconfig', kubeconfig]);
    assert.equal(d.status, 1);
    assert.equal(byId(d.checks, 'k8s.api')[0]!.status, 'ok');
    assert.deepEqual(byId(d.checks, 'k8s.dns-pod').map((c) => [c.target, c.status]), [[`127.0.0.1:${dnsPod.port}`, 'ok']]);
    const s = byId(d.checks, 'k8s.dns-service')[0]!;
    assert.equal(s.status, 'fail');
    assert.match(s.summary, /Service IP does not answer kubernetes\.default\.svc\.cluster\.local\.: .*, though 1 pod answers directly/);
    assert.match(s.fix, /kube-proxy/);
  } finally {
    await dnsPod.stop();
    await api.stop();
    await removeDir(dir);
  }
});

test('lameduck: /ready says Shutting down while /health and DNS answer: a warning with its fix, not a failure', async () => {
  const srv = await startServer('.:0 {\n  bind 127.0.0.1\n  health 127.0.0.1:0 {\n    lameduck 10m\n  }\n  ready 127.0.0.1:0\n  whoami\n}\n');
  const client = await UdpClient.open(srv.port);
  const http = `http://127.0.0.1:${srv.app.services.http.port('127.0.0.1:0')}`;
  const args = ['--health', `${http}/health`, '--ready', `${http}/ready`];
  const before = await doctor(args);
  assert.equal(byId(before.checks, 'lameduck')[0]!.status, 'ok');
  const stopping = srv.stop();
  try {
    assert.ok(srv.logs.includes('[INFO] plugin/health: Going into lameduck mode for 10m0s'), srv.logs.join('\n'));
    const d = await doctor(args);
    assert.equal(d.status, 0, d.text);
    assert.deepEqual(d.checks.map((c) => `${c.id} ${c.status}`), ['health ok', 'ready warn', 'lameduck warn']);
    const l = byId(d.checks, 'lameduck')[0]!;
    assert.match(l.summary, /^the server is stopping \(lameduck\): \/ready says Shutting down, \/health and DNS still answer/);
    assert.match(l.fix, /terminationGracePeriodSeconds longer than lameduck/);
    assert.match(d.text, /^verdict: warn: 2 warnings, nothing failing$/m);
    assert.equal((await client.query('whoami.example.', Type.A)).rcode, 0, 'DNS still answers in lameduck');
  } finally {
    // A second stop ends the lameduck at once (the doctor's runs take as long as they take).
    await srv.stop();
    await stopping;
    await client.close();
  }
});

test('--kubeconfig: the API\'s own view: a DNS pod serving a stale kubernetes Service address, and a pod not ready', async () => {
  const api = new FakeApiServer();
  const { url } = await api.start();
  const dir = await makeTempDir('clusterdns-doctor-kc-');
  const fresh = await startCluster([ns('default'), svc('default', 'kubernetes', ['10.96.0.1'])], { zones: 'cluster.local' });
  const stale = await startCluster([ns('default'), svc('default', 'kubernetes', ['10.96.0.2'])], { zones: 'cluster.local' });
  const dnsPod = (name: string, ready: boolean, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: { containers: [{ name: 'dns', image: 'clusterdns' }] },
    status: { phase: 'Running', podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', ...(ready ? {} : { message: 'readiness probe failed' }) }], ...extra },
  });
  try {
    api.create(namespaceObject('default'));
    api.create(namespaceObject('kube-system'));
    api.create(serviceObject('default', 'kubernetes', '10.96.0.1'));
    api.create(serviceObject('kube-system', 'kube-dns', '127.0.0.1', { spec: { selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: fresh.port, protocol: 'UDP' }] } }));
    for (const [n, port] of [['kube-dns-a', fresh.port], ['kube-dns-b', stale.port]] as const) {
      api.create({ ...endpointSliceObject('kube-system', n, 'kube-dns', ['127.0.0.1']), ports: [{ name: 'dns', port, protocol: 'UDP' }] });
    }
    api.create(dnsPod('dns-a', true));
    api.create(dnsPod('dns-b', false, { containerStatuses: [{ name: 'dns', restartCount: 3, lastState: { terminated: { reason: 'OOMKilled' } } }] }));
    const kubeconfig = await writeKubeconfig(dir, { server: url });
    const d = await doctor(['--kubeconfig', kubeconfig]);
    assert.equal(d.status, 1, d.text);
    assert.match(byId(d.checks, 'k8s.api')[0]!.summary, /^API server v1\.31\.0-fake: read Service kube-system\/kube-dns/);
    assert.deepEqual(byId(d.checks, 'k8s.dns-pod').map((c) => c.status), ['ok', 'ok'], 'both answer when asked directly');
    const k = byId(d.checks, 'k8s.kubernetes-service')[0]!;
    assert.equal(k.status, 'fail');
    assert.equal(k.summary, `for kubernetes.default.svc.cluster.local. the API says 10.96.0.1, but 127.0.0.1:${stale.port} answers 10.96.0.2: a stale copy of the cluster`);
    assert.match(k.fix, /coredns_kubernetes_api_synced/);
    assert.deepEqual(byId(d.checks, 'k8s.dns-pod-status').map((c) => [c.target, c.status, c.summary]), [
      ['kube-system/dns-a', 'ok', 'DNS pod Running, Ready=True, 0 restarts'],
      ['kube-system/dns-b', 'warn', 'DNS pod not ready: Running, Ready=False (readiness probe failed), 3 restarts'],
    ]);
    assert.equal(byId(d.checks, 'k8s.dns-service')[0]!.status, 'ok');
    // The stale pod catches up: no failure left from the API's view.
    api.update(serviceObject('default', 'kubernetes', '10.96.0.2'));
    const after = await doctor(['--kubeconfig', kubeconfig]);
    assert.match(byId(after.checks, 'k8s.kubernetes-service')[0]!.summary, /the API says 10\.96\.0\.2, but 127\.0\.0\.1:\d+ answers 10\.96\.0\.1/, 'now the other pod is the stale one');
  } finally {
    await fresh.stop();
    await stale.stop();
    await api.stop();
    await removeDir(dir);
  }
});

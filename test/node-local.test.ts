/**
 * @module test/node-local.test
 * Node-local cache mode end to end, on loopback:
 *   dnsmasq (the "node's resolver", 127.0.0.1:free port, via a temp resolv.conf)
 *   <- cluster DNS: a clusterdns App running kubeadm's default Corefile shape
 *      (errors, health, ready, kubernetes from the example manifests,
 *      prometheus, forward . resolv.conf, cache 30, loop, reload, loadbalance)
 *   <- node-local cache: a clusterdns App running deploy/node-local's Corefile,
 *      with only its addresses changed (169.254.20.10 -> 127.0.0.10, the
 *      kube-dns IP 10.96.0.10 -> 127.0.0.11, ports -> 0, /etc/resolv.conf ->
 *      the temp file, kube-dns-upstream -> the cluster DNS App).
 * A cluster name resolves through the cache over force_tcp, an external name
 * through its `.` block, and reverse lookups through in-addr.arpa.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { metricsRegistry } from '../src/metrics/registry.ts';
import type { App } from '../src/app/app.ts';
import { parseDig, startServer, type DigResult, type TestServer } from './support/harness.ts';
import { startDnsmasq, type Dnsmasq } from './support/dnsmasq.ts';
import { waitUntil } from './support/wait-until.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

type Running = TestServer;

function boot(corefile: string, env: Record<string, string> = {}): Promise<Running> {
  return startServer(corefile, { path: join(root, 'Corefile'), env, tcp: { idleTimeoutMs: 2000, maxConnections: 100 } });
}

function digAt(address: string, port: number, ...args: string[]): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile('dig', [`@${address}`, '-p', String(port), '+time=3', '+tries=1', ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`dig failed: ${err.message} ${stderr}`));
      else resolve(parseDig(stdout));
    });
  });
}

function portOf(app: App, address: string): number {
  const p = app.server.boundPorts().find((b) => b.address === address);
  if (!p) throw new Error(`no listener on ${address}`);
  return p.port;
}

/** kubeadm's default Corefile, listening on loopback port 0 with its HTTP endpoints on ephemeral ports. */
function kubeadmCorefile(resolvConf: string): string {
  return `.:0 {
    bind 127.0.0.1
    errors
    health 127.0.0.1:0 {
       lameduck 200ms
    }
    ready 127.0.0.1:0
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       manifests ${join(root, 'examples', 'cluster')}
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus 127.0.0.1:0
    forward . ${resolvConf} {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
}

/** deploy/node-local's Corefile with only the addresses changed. */
function nodeLocalCorefile(resolvConf: string): string {
  const doc = parseYaml(readFileSync(join(root, 'deploy', 'node-local', 'configmap.yaml'), 'utf8')) as { data: { Corefile: string } };
  const text = doc.data.Corefile
    .replaceAll('169.254.20.10:8080', '127.0.0.10:0')
    .replaceAll('169.254.20.10', '127.0.0.10')
    .replaceAll('10.96.0.10', '127.0.0.11')
    .replaceAll(':53 {', ':0 {')
    .replaceAll('prometheus :9253', 'prometheus 127.0.0.1:0')
    .replaceAll('/etc/resolv.conf', resolvConf);
  assert.doesNotMatch(text, /169\.254|10\.96\.0\.10|:53 |:9253|\/etc\//, 'every non-loopback address replaced');
  return text;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: r.status, body: await r.text() };
}

let dnsmasq: Dnsmasq;
let dir = '';
let resolvConf = '';
let cluster: Running;
let nodeLocal: Running;

before(async () => {
  dnsmasq = await startDnsmasq(['--address=/ext.example/192.0.2.10', '--local-ttl=300']);
  dir = mkdtempSync(join(tmpdir(), 'node-local-'));
  resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `# the node's resolvers\nnameserver ${dnsmasq.address}\n`);
  cluster = await boot(kubeadmCorefile(resolvConf));
  const clusterPort = portOf(cluster.app, '127.0.0.1');
  nodeLocal = await boot(nodeLocalCorefile(resolvConf), { KUBE_DNS_UPSTREAM_SERVICE_HOST: `127.0.0.1:${clusterPort}` });
});

after(async () => {
  await nodeLocal?.app.stop(500);
  await cluster?.app.stop(500);
  await dnsmasq?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('cluster DNS with the kubeadm default Corefile', () => {
  it('starts, is healthy and ready, and answers cluster, reverse and external names', async () => {
    const port = portOf(cluster.app, '127.0.0.1');
    const http = cluster.app.services.http.port('127.0.0.1:0')!;
    assert.equal((await get(`http://127.0.0.1:${http}/health`)).status, 200);
    await waitUntil(() => cluster.app.services.readiness.notReady().length === 0, { timeoutMs: 5000, message: 'ready' });
    assert.equal((await get(`http://127.0.0.1:${http}/ready`)).status, 200);
    const a = await digAt('127.0.0.1', port, 'kubernetes.default.svc.cluster.local', 'A');
    assert.equal(a.status, 'NOERROR');
    assert.deepEqual(a.answer.map((r) => [r.data, r.ttl]), [['10.96.0.1', 30]]);
    const ptr = await digAt('127.0.0.1', port, '-x', '10.96.0.1');
    assert.deepEqual(ptr.answer.map((r) => r.data), ['kubernetes.default.svc.cluster.local.']);
    const ext = await digAt('127.0.0.1', port, 'www.ext.example', 'A');
    assert.deepEqual(ext.answer.map((r) => [r.data, r.ttl]), [['192.0.2.10', 30]], 'forwarded to the node resolver, capped by cache 30');
    const metrics = (await get(`http://127.0.0.1:${http}/metrics`)).body;
    assert.match(metrics, /coredns_cache_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zones="\.",view=""\} \d+/);
    assert.match(metrics, /coredns_proxy_request_duration_seconds_count\{proxy_name="forward",to="127\.0\.0\.1:\d+",rcode="NOERROR"\} \d+/);
    assert.deepEqual(cluster.fatal, [], 'no loop');
  });
});

describe('node-local cache (deploy/node-local Corefile)', () => {
  it('listens on both local addresses and is healthy', async () => {
    assert.ok(portOf(nodeLocal.app, '127.0.0.10') > 0);
    assert.ok(portOf(nodeLocal.app, '127.0.0.11') > 0);
    const health = nodeLocal.app.services.http.port('127.0.0.10:0')!;
    assert.equal((await get(`http://127.0.0.10:${health}/health`)).status, 200);
  });

  it('resolves a cluster name through the cluster DNS over TCP, then from its cache', async () => {
    const port = portOf(nodeLocal.app, '127.0.0.10');
    const first = await digAt('127.0.0.10', port, 'nginx.default.svc.cluster.local', 'A');
    assert.equal(first.status, 'NOERROR');
    assert.ok(first.answer.length >= 1);
    const second = await digAt('127.0.0.10', port, 'nginx.default.svc.cluster.local', 'A');
    assert.deepEqual(second.answer.map((r) => r.data).sort(), first.answer.map((r) => r.data).sort());
    const viaKubeDnsIp = await digAt('127.0.0.11', portOf(nodeLocal.app, '127.0.0.11'), 'kubernetes.default.svc.cluster.local', 'A');
    assert.deepEqual(viaKubeDnsIp.answer.map((r) => r.data), ['10.96.0.1'], 'also on the intercepted kube-dns address');
    const text = await metricsRegistry(nodeLocal.app.services).metrics();
    const clusterTo = `127.0.0.1:${portOf(cluster.app, '127.0.0.1')}`;
    assert.match(text, new RegExp(`coredns_proxy_conn_cache_misses_total\\{proxy_name="forward",to="${clusterTo}",proto="tcp"\\} [1-9]`));
    assert.doesNotMatch(text, new RegExp(`coredns_proxy_conn_cache_misses_total\\{proxy_name="forward",to="${clusterTo}",proto="udp"\\}`), 'force_tcp: no UDP to the cluster DNS');
    assert.match(text, /coredns_cache_hits_total\{server="dns:\/\/127\.0\.0\.1\d:\d+",type="success",zones="cluster\.local\.",view=""\} [1-9]/);
  });

  it('caches denials for 5s in the cluster zone', async () => {
    const port = portOf(nodeLocal.app, '127.0.0.10');
    const nx = await digAt('127.0.0.10', port, 'nosuch.default.svc.cluster.local', 'A');
    assert.equal(nx.status, 'NXDOMAIN');
    assert.ok(nx.authority.every((r) => r.ttl <= 5), 'denial 9984 5');
  });

  it('resolves reverse names through in-addr.arpa and external names through the `.` block', async () => {
    const port = portOf(nodeLocal.app, '127.0.0.10');
    const ptr = await digAt('127.0.0.10', port, '-x', '10.96.100.10');
    assert.deepEqual(ptr.answer.map((r) => r.data), ['nginx.default.svc.cluster.local.']);
    const before = dnsmasq.queries('node.ext.example');
    const ext = await digAt('127.0.0.10', port, 'node.ext.example', 'A');
    assert.equal(ext.status, 'NOERROR');
    assert.deepEqual(ext.answer.map((r) => [r.data, r.ttl]), [['192.0.2.10', 30]]);
    await digAt('127.0.0.10', port, 'node.ext.example', 'A');
    assert.equal(dnsmasq.queries('node.ext.example'), before + 1, 'straight to the node resolver, once (then cached)');
    assert.deepEqual(nodeLocal.fatal, [], 'no loop');
  });
});

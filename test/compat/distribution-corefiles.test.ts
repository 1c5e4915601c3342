/**
 * @module test/compat/distribution-corefiles.test
 * Every distribution's default Corefile (test/compat/corefiles, each naming
 * its source), booted through the real server with only the loopback
 * changes of `localizeCorefile`, against one cluster: a fake API server
 * reached the way a cluster pod reaches it (in-cluster configuration:
 * KUBERNETES_SERVICE_HOST/PORT, service-account token and CA, HTTPS), and a
 * dnsmasq standing in for the node's resolvers. Each must answer a Service
 * A, a PTR, a pod A (`pods insecure`) and an external name through
 * forward, plus what that distribution adds (NodeLocal's blocks forwarding
 * to the cluster DNS over TCP, k3s's NodeHosts, minikube's
 * host.minikube.internal, OpenShift's hostname.bind). Then the snippets
 * operators paste from the CoreDNS, Kubernetes, kubespray and AKS docs,
 * pasted into kubeadm's (and AKS's) Corefile, answer as those docs say.
 * One server per Corefile, all started in parallel.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_ACCOUNT_DIR_ENV } from '../../src/plugins/kubernetes/source.ts';
import { FakeApiServer, type KubeObject } from '../support/fake-apiserver.ts';
import { startDnsmasq, type Dnsmasq } from '../support/dnsmasq.ts';
import { freePort } from '../support/ports.ts';
import { dig, startServer, type DigResult, type TestServer } from '../support/harness.ts';
import { makeTempDir, removeDir } from '../support/kubeconfig.ts';
import { httpGet, scrape, total } from '../ops/ops-support.ts';
import { CLUSTER, DISTRIBUTIONS, DNSMASQ_RECORDS, paste, SNIPPETS, type Distribution } from './distributions.ts';
import { localizeCorefile, type LoopbackTargets } from './localize-corefile.ts';

const COREFILES = fileURLToPath(new URL('./corefiles/', import.meta.url));
const PKI = fileURLToPath(new URL('../support/fixtures/', import.meta.url));
const DOMAIN = 'cluster.local';
const TOKEN = 'distribution-sa-token';

interface Booted {
  readonly name: string;
  /** Shipped port → loopback port. */
  readonly ports: Map<number, number>;
  readonly corefile: string;
  server: TestServer | null;
  error: string | null;
}

const booted = new Map<string, Booted>();
let dnsmasq: Dnsmasq;
let api: FakeApiServer;
let work: string;
const savedEnv = new Map<string, string | undefined>();

function setEnv(key: string, value: string): void {
  if (!savedEnv.has(key)) savedEnv.set(key, process.env[key]);
  process.env[key] = value;
}

const usedPorts = new Set<number>();
async function uniquePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    if (!usedPorts.has(p)) { usedPorts.add(p); return p; }
  }
  throw new Error('no unique free port');
}

/** The Corefile text `d` runs, before localizing. */
async function shippedText(d: Distribution, base: string): Promise<string> {
  return paste(await readFile(path.join(COREFILES, `${base}.Corefile`), 'utf8'), d.paste ?? []);
}

/** Where a localized Corefile's ports, upstream, cluster DNS and files go. */
function targets(ports: ReadonlyMap<number, number>, configDir: string, clusterDns = ''): LoopbackTargets {
  return { dnsPorts: ports, upstream: dnsmasq.address, clusterDns, configDir, clusterDomain: DOMAIN };
}

async function prepare(d: Distribution, base: string, clusterDnsPort: () => number): Promise<Booted> {
  const ports = new Map<number, number>();
  for (const p of [53, ...(d.ports ?? [])]) ports.set(p, await uniquePort());
  const dir = path.join(work, d.name);
  // The folders the distributions mount (k3s's and AKS's coredns-custom ConfigMap, optional: empty by default).
  await mkdir(path.join(dir, 'custom'), { recursive: true });
  for (const [file, text] of Object.entries(d.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    // Files the Corefile imports are localized as it is (AKS's custom/*.server and *.override keys).
    const imported = file.endsWith('.server') || file.endsWith('.override');
    await writeFile(path.join(dir, file), imported ? localizeCorefile(text, targets(ports, dir), { blockBody: file.endsWith('.override') }) : text);
  }
  const corefile = localizeCorefile(await shippedText(d, base), targets(ports, dir, `127.0.0.1:${clusterDnsPort()}`));
  await writeFile(path.join(dir, 'Corefile'), corefile);
  return { name: d.name, ports, corefile, server: null, error: null };
}

async function boot(b: Booted): Promise<void> {
  try {
    b.server = await startServer('', { path: path.join(work, b.name, 'Corefile') });
  } catch (e) {
    b.error = e instanceof Error ? e.message : String(e);
  }
}

function get(name: string): Booted & { server: TestServer } {
  const b = booted.get(name);
  assert.ok(b, `no Corefile ${name}`);
  assert.equal(b.error, null, `${name} did not boot: ${b.error}\n--- localized Corefile ---\n${b.corefile}`);
  return b as Booted & { server: TestServer };
}

/**
 * dig at a distribution's server, on its (localized) port `shipped`. Three tries of 2 s: ~25
 * servers share this process and the machine, and a reply late under that load is not the
 * answer being checked (a server that never answers still fails).
 */
function ask(name: string, args: readonly string[], shipped = 53): Promise<DigResult> {
  const b = get(name);
  return dig(b.ports.get(shipped)!, '+tries=3', ...args);
}

function answers(r: DigResult): string[] {
  return r.answer.map((a) => `${a.name} ${a.type} ${a.data}`).sort();
}

before(async () => {
  dnsmasq = await startDnsmasq(DNSMASQ_RECORDS);
  api = new FakeApiServer({ token: TOKEN, tls: { cert: await readFile(path.join(PKI, 'server.crt')), key: await readFile(path.join(PKI, 'server.key')) } });
  const { url } = await api.start();
  for (const o of CLUSTER) api.create(o as KubeObject);
  work = await makeTempDir('clusterdns-distributions-');
  const sa = path.join(work, 'serviceaccount');
  await mkdir(sa);
  await writeFile(path.join(sa, 'token'), TOKEN);
  await copyFile(path.join(PKI, 'ca.crt'), path.join(sa, 'ca.crt'));
  // In-cluster configuration, as every one of these Corefiles expects (their kubernetes blocks name no endpoint).
  setEnv('KUBERNETES_SERVICE_HOST', '127.0.0.1');
  setEnv('KUBERNETES_SERVICE_PORT', new URL(url).port);
  setEnv(SERVICE_ACCOUNT_DIR_ENV, sa);

  // kubeadm's server is the cluster DNS the node-local caches forward to (prepared first, so its port is known).
  const kubeadmPort = (): number => booted.get('kubeadm')?.ports.get(53) ?? 0;
  const sources = new Map<string, [Distribution, string]>([
    ...DISTRIBUTIONS.map((d): [string, [Distribution, string]] => [d.name, [d, d.name]]),
    ...SNIPPETS.map((s): [string, [Distribution, string]] => [s.name, [s, s.base]]),
  ]);
  // A port found free can be taken before its server binds it (another server's ephemeral
  // sockets, other test files): such a server is prepared again on fresh ports, at most 3 times.
  const bootAll = async (names: readonly string[]): Promise<void> => {
    for (let round = 0, todo = names; round < 3 && todo.length > 0; round++) {
      for (const n of todo) { const [d, base] = sources.get(n)!; booted.set(n, await prepare(d, base, kubeadmPort)); }
      await Promise.all(todo.map((n) => boot(booted.get(n)!)));
      todo = todo.filter((n) => booted.get(n)!.error?.includes('EADDRINUSE'));
    }
  };
  // kubeadm first: the node-local caches forward to its port.
  await bootAll(['kubeadm']);
  await bootAll([...sources.keys()].filter((n) => n !== 'kubeadm'));
});

/**
 * Stops a server without its shipped lameduck (5 s, OpenShift's 20 s), which would only hold the
 * teardown; the lameduck itself is tested in src/plugins/health, its shipped value below.
 */
async function stopNow(server: TestServer): Promise<void> {
  const lameduck = server.app.services.lameduck;
  for (let r = lameduck.longest(), i = 0; r !== null && i < 10; r = lameduck.longest(), i++) lameduck.delete(r);
  await server.stop();
}

after(async () => {
  await Promise.all([...booted.values()].map((b) => (b.server ? stopNow(b.server) : undefined)));
  await api?.stop();
  await dnsmasq?.stop();
  for (const [k, v] of savedEnv) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (work) await removeDir(work);
});

/** The cluster DNS Corefiles (not the node-local caches). */
const CLUSTER_DNS = DISTRIBUTIONS.map((d) => d.name).filter((n) => n !== 'nodelocaldns' && n !== 'cilium-node-local');

describe('distribution Corefiles boot unchanged and answer', { concurrency: 4 }, () => {
  for (const name of CLUSTER_DNS) {
    it(`${name}: Service A, PTR, pod A, and an external name through forward`, async () => {
      const port = name === 'openshift' ? 5353 : 53;
      const ext = `${name}.ext.example.test`;
      const before = dnsmasq.queries(ext);
      const [a, ptr, podA, external, nx] = await Promise.all([
        ask(name, ['A', `web.default.svc.${DOMAIN}`], port),
        ask(name, ['-x', '10.96.0.20'], port),
        ask(name, ['A', `10-244-1-5.default.pod.${DOMAIN}`], port),
        ask(name, ['A', ext], port),
        ask(name, ['A', `missing.default.svc.${DOMAIN}`], port),
      ]);
      assert.deepEqual(answers(a), [`web.default.svc.${DOMAIN}. A 10.96.0.20`], a.raw);
      assert.ok(a.flags.includes('aa'), a.raw);
      // The kubernetes block's `ttl 30`, or CoreDNS's default 5 (the first query of the name, so not from a cache).
      const ttl = /^\s*ttl 30$/m.test(await readFile(path.join(COREFILES, `${name}.Corefile`), 'utf8')) ? 30 : 5;
      assert.equal(a.answer[0]!.ttl, ttl, a.raw);
      assert.deepEqual(answers(ptr), [`20.0.96.10.in-addr.arpa. PTR web.default.svc.${DOMAIN}.`], ptr.raw);
      assert.deepEqual(answers(podA), [`10-244-1-5.default.pod.${DOMAIN}. A 10.244.1.5`], podA.raw);
      assert.deepEqual(answers(external), [`${ext}. A 192.0.2.80`], external.raw);
      assert.ok(dnsmasq.queries(ext) > before, 'the external name went to the upstream');
      assert.equal(nx.status, 'NXDOMAIN', nx.raw);
      assert.equal(nx.authority[0]?.type, 'SOA', nx.raw);
    });
  }

  for (const name of DISTRIBUTIONS.map((d) => d.name)) {
    it(`${name}: the kubelet's probes and the metrics scrape answer on the shipped plugins' listener`, async () => {
      const b = get(name);
      const port = b.server.app.services.http.port('127.0.0.1:0');
      assert.ok(port !== undefined, 'health/ready/prometheus listen on the localized address');
      const shipped = await readFile(path.join(COREFILES, `${name}.Corefile`), 'utf8');
      if (/^\s*health\b/m.test(shipped)) assert.equal((await httpGet(port, '/health')).status, 200);
      if (/^\s*ready\b/m.test(shipped)) assert.equal((await httpGet(port, '/ready')).status, 200);
      if (/^\s*prometheus\b/m.test(shipped)) assert.ok(total(await scrape(port), 'coredns_dns_requests_total') > 0);
    });
  }

  it('the localized Corefiles listen and forward on loopback only', () => {
    for (const b of booted.values()) {
      const { server } = get(b.name);
      const bound = server.app.server.boundPorts();
      assert.ok(bound.length > 0 && bound.every((p) => p.address === '127.0.0.1'), `${b.name}: ${JSON.stringify(bound)}`);
      for (const m of b.corefile.matchAll(/^\s*forward\s+\S+\s+([^{\n]*)/gm)) {
        for (const to of m[1]!.trim().split(/\s+/)) assert.match(to, /^127\.0\.0\.1:\d+$/, `${b.name}: forward to ${to}`);
      }
    }
  });

  it('health lameduck as shipped: kubeadm 5s, OpenShift 20s, k3s none', () => {
    assert.equal(get('kubeadm').server.app.services.lameduck.longest()?.ms, 5000);
    assert.equal(get('openshift').server.app.services.lameduck.longest()?.ms, 20_000);
    assert.equal(get('k3s').server.app.services.lameduck.longest(), null);
  });

  it('k3s: the NodeHosts hosts block answers node names; cluster names still win', async () => {
    const [node, agent, rev] = await Promise.all([
      ask('k3s', ['A', 'k3d-server-0']), ask('k3s', ['A', 'k3d-agent-0']), ask('k3s', ['-x', '172.18.0.3']),
    ]);
    assert.deepEqual(answers(node), ['k3d-server-0. A 172.18.0.3'], node.raw);
    assert.deepEqual(answers(agent), ['k3d-agent-0. A 172.18.0.4'], agent.raw);
    assert.deepEqual(answers(rev), ['3.0.18.172.in-addr.arpa. PTR k3d-server-0.'], rev.raw);
    assert.equal(dnsmasq.queries('k3d-server-0'), 0, 'NodeHosts answered without the upstream');
  });

  it('minikube: host.minikube.internal from its hosts block', async () => {
    const r = await ask('minikube', ['A', 'host.minikube.internal']);
    assert.deepEqual(answers(r), ['host.minikube.internal. A 192.168.49.1'], r.raw);
  });

  it('openshift: hostname.bind CH TXT from the chaos block on the same port; bufsize 512 advertised', async () => {
    const [r, big] = await Promise.all([
      ask('openshift', ['CH', 'TXT', 'hostname.bind'], 5353),
      ask('openshift', ['+bufsize=4096', 'A', `web.default.svc.${DOMAIN}`], 5353),
    ]);
    assert.equal(r.status, 'NOERROR', r.raw);
    assert.deepEqual(r.answer.map((a) => `${a.class} ${a.type} ${a.data}`), [`CH TXT "${hostname()}"`], r.raw);
    assert.match(big.raw, /; EDNS: version: 0, flags:; udp: 512\b/, big.raw);
  });

  for (const name of ['nodelocaldns', 'cilium-node-local']) {
    it(`${name}: cluster names over TCP to the cluster DNS, reverse through in-addr.arpa, the rest to the node's resolvers`, async () => {
      const ext = `${name}.ext.example.test`;
      const [a, ptr, external, tcp] = await Promise.all([
        ask(name, ['A', `web.default.svc.${DOMAIN}`]),
        ask(name, ['-x', '10.96.0.20']),
        ask(name, ['A', ext]),
        ask(name, ['+tcp', 'A', `kube-dns.kube-system.svc.${DOMAIN}`]),
      ]);
      assert.deepEqual(answers(a), [`web.default.svc.${DOMAIN}. A 10.96.0.20`], a.raw);
      assert.deepEqual(answers(ptr), [`20.0.96.10.in-addr.arpa. PTR web.default.svc.${DOMAIN}.`], ptr.raw);
      assert.deepEqual(answers(external), [`${ext}. A 192.0.2.80`], external.raw);
      assert.deepEqual(answers(tcp), [`kube-dns.kube-system.svc.${DOMAIN}. A 10.96.0.10`], tcp.raw);
      // `cache { denial 9984 5 }`: a negative answer is given (and kept) for at most 5 s.
      const nx = await ask(name, ['A', `missing.default.svc.${DOMAIN}`]);
      assert.equal(nx.status, 'NXDOMAIN', nx.raw);
      assert.ok(nx.authority[0] !== undefined && nx.authority[0].ttl <= 5, nx.raw);
      // The cluster zone reached kubeadm's server (the cluster DNS) through force_tcp, not dnsmasq.
      assert.equal(dnsmasq.queries(`kube-dns.kube-system.svc.${DOMAIN}`), 0);
      const cluster = await scrape(get('kubeadm').server.app.services.http.port('127.0.0.1:0')!);
      // Nothing else asks kubeadm's server over TCP.
      assert.ok(total(cluster, 'coredns_dns_requests_total', { proto: 'tcp' }) > 0, 'the cluster DNS got TCP queries');
    });
  }
});

describe('operator snippets pasted into the shipped Corefiles', { concurrency: 4 }, () => {
  it('CoreDNS blog: rewrite name gives a Service a second name; a file zone serves next to the cluster zone', async () => {
    const [foo, www, www6, soa, nx, svcA] = await Promise.all([
      ask('blog-rewrite-and-file', ['A', 'foo.example.com']),
      ask('blog-rewrite-and-file', ['A', 'www.example.org']),
      ask('blog-rewrite-and-file', ['AAAA', 'www.example.org']),
      ask('blog-rewrite-and-file', ['SOA', 'example.org']),
      ask('blog-rewrite-and-file', ['A', 'nothing.example.org']),
      ask('blog-rewrite-and-file', ['A', `web.default.svc.${DOMAIN}`]),
    ]);
    assert.deepEqual(answers(foo), ['foo.example.com. A 10.96.0.20'], foo.raw);
    assert.deepEqual(answers(www), ['www.example.org. A 127.0.0.1'], www.raw);
    assert.deepEqual(answers(www6), ['www.example.org. AAAA ::1'], www6.raw);
    assert.ok(www.flags.includes('aa'), www.raw);
    assert.equal(soa.answer[0]?.type, 'SOA', soa.raw);
    assert.equal(nx.status, 'NXDOMAIN', nx.raw);
    assert.equal(nx.authority[0]?.type, 'SOA', nx.raw);
    assert.deepEqual(answers(svcA), [`web.default.svc.${DOMAIN}. A 10.96.0.20`], svcA.raw);
    assert.equal(dnsmasq.queries('foo.example.com') + dnsmasq.queries('www.example.org'), 0, 'answered locally');
  });

  it('template IN AAAA . { rcode NOERROR }: every AAAA gets NODATA at once, A is untouched', async () => {
    const ext = 'template.ext.example.test';
    const [svc6, ext6, ext4] = await Promise.all([
      ask('template-aaaa', ['AAAA', `web.default.svc.${DOMAIN}`]),
      ask('template-aaaa', ['AAAA', ext]),
      ask('template-aaaa', ['A', ext]),
    ]);
    for (const r of [svc6, ext6]) {
      assert.equal(r.status, 'NOERROR', r.raw);
      assert.equal(r.answer.length, 0, r.raw);
    }
    assert.equal(dnsmasq.queries(ext, 'AAAA'), 0, 'no AAAA reached the upstream');
    assert.deepEqual(answers(ext4), [`${ext}. A 192.0.2.80`], ext4.raw);
  });

  it('k8s_external example.net: the LoadBalancer ingress IP under the external zone, SOA at the apex', async () => {
    const [lb, soa, clusterIp, none] = await Promise.all([
      ask('k8s-external', ['A', 'lb.default.example.net']),
      ask('k8s-external', ['SOA', 'example.net']),
      ask('k8s-external', ['A', `lb.default.svc.${DOMAIN}`]),
      ask('k8s-external', ['A', 'web.default.example.net']),
    ]);
    assert.deepEqual(answers(lb), ['lb.default.example.net. A 203.0.113.7'], lb.raw);
    assert.match(soa.answer[0]?.data ?? '', /^ns1\.dns\.example\.net\. hostmaster\.example\.net\. /, soa.raw);
    assert.deepEqual(answers(clusterIp), [`lb.default.svc.${DOMAIN}. A 10.96.0.30`], clusterIp.raw);
    assert.equal(none.status, 'NXDOMAIN', none.raw);
  });

  it('kubespray external zones: `example.com example.io:1053` serves each zone on its own port', async () => {
    const [com, io, ioOnMain, comOn1053] = await Promise.all([
      ask('kubespray-external-zones', ['A', 'www.example.com']),
      ask('kubespray-external-zones', ['A', 'www.example.io'], 1053),
      ask('kubespray-external-zones', ['A', `web.default.svc.${DOMAIN}`]),
      ask('kubespray-external-zones', ['A', 'www.example.com'], 1053),
    ]);
    assert.deepEqual(answers(com), ['www.example.com. A 192.0.2.81'], com.raw);
    assert.deepEqual(answers(io), ['www.example.io. A 192.0.2.82'], io.raw);
    assert.deepEqual(answers(ioOnMain), [`web.default.svc.${DOMAIN}. A 10.96.0.20`], ioOnMain.raw);
    assert.equal(comOn1053.status, 'REFUSED', comOn1053.raw);
    const log = get('kubespray-external-zones').server.logs;
    assert.ok(log.some((l) => l.includes('www.example.io')), 'the block\'s log plugin logged its query');
  });

  it('kubespray coredns_rewrite_block: NAME.NAMESPACE.my.domain answers as the Service, under the asked name', async () => {
    const [r, srv, plain] = await Promise.all([
      ask('kubespray-rewrite-block', ['A', 'web.default.my.domain']),
      ask('kubespray-rewrite-block', ['SRV', '_http._tcp.web.default.my.domain']),
      ask('kubespray-rewrite-block', ['A', `web.default.svc.${DOMAIN}`]),
    ]);
    assert.deepEqual(answers(r), ['web.default.my.domain. A 10.96.0.20'], r.raw);
    assert.ok(r.flags.includes('aa'), r.raw);
    // `answer name` renames owners only; the SRV target changes only with `answer value` (CoreDNS's README).
    assert.deepEqual(answers(srv), [`_http._tcp.web.default.my.domain. SRV 0 100 80 web.default.svc.${DOMAIN}.`], srv.raw);
    assert.deepEqual(answers(plain), [`web.default.svc.${DOMAIN}. A 10.96.0.20`], plain.raw);
    assert.equal(dnsmasq.queries('web.default.my.domain'), 0, 'answered by the kubernetes block');
  });

  it('an edit of the running kubeadm Corefile: a typo is refused with FILE:LINE and the old one keeps serving; the fixed edit is swapped in', async () => {
    const b = get('kubeadm-edited');
    const file = path.join(work, b.name, 'Corefile');
    /** Writes kubeadm's Corefile with `line` pasted after `ready`; returns the line number it landed on. */
    const edit = async (line: string): Promise<number> => {
      const text = localizeCorefile(await shippedText({ name: b.name, paste: [['    ready', line]] }, 'kubeadm'), targets(b.ports, path.dirname(file)));
      await writeFile(file, text);
      return text.split('\n').indexOf(line) + 1;
    };
    // bar, not foo: the blog test proves foo.example.com never reaches the shared upstream, and runs alongside.
    const before = await ask(b.name, ['A', 'bar.example.com']);
    assert.equal(before.answer.length, 0, before.raw);
    const at = await edit('    rewrite nme bar.example.com web.default.svc.cluster.local');
    await assert.rejects(b.server.app.reload(), (e: Error) => e.message === `${file}:${at}: plugin/rewrite: invalid rule type 'nme'`);
    assert.deepEqual(answers(await ask(b.name, ['A', `web.default.svc.${DOMAIN}`])), [`web.default.svc.${DOMAIN}. A 10.96.0.20`]);
    await edit('    rewrite name bar.example.com web.default.svc.cluster.local');
    assert.equal(await b.server.app.reload(), true);
    const after = await ask(b.name, ['A', 'bar.example.com']);
    assert.deepEqual(answers(after), ['bar.example.com. A 10.96.0.20'], after.raw);
  });

  it('AKS coredns-custom: rewrite with answer name, a hosts override, a stub domain', async () => {
    const [rewritten, hosted, stub, cluster] = await Promise.all([
      ask('aks-custom', ['A', 'web.contoso.com']),
      ask('aks-custom', ['A', 'example2.org']),
      ask('aks-custom', ['A', 'db.puglife.local']),
      ask('aks-custom', ['A', `web.default.svc.${DOMAIN}`]),
    ]);
    assert.deepEqual(answers(rewritten), ['web.contoso.com. A 10.96.0.20'], rewritten.raw);
    assert.ok(dnsmasq.queries(`web.default.svc.${DOMAIN}`) >= 1, 'the rewritten name was forwarded');
    assert.deepEqual(answers(hosted), ['example2.org. A 10.0.0.2'], hosted.raw);
    assert.deepEqual(answers(stub), ['db.puglife.local. A 192.0.2.83'], stub.raw);
    assert.deepEqual(answers(cluster), [`web.default.svc.${DOMAIN}. A 10.96.0.20`], cluster.raw);
  });
});

/** Counters and logs of whole servers: alone, after the tests above (which share those servers). */
describe('what the shipped cache and log options do', () => {
  it('cache: kubeadm\'s and Talos\'s `disable success/denial cluster.local` keep cluster answers out of the cache; EKS\'s cache lets them pass', async () => {
    const counts = async (name: string): Promise<{ hits: number; passed: number }> => {
      const m = await scrape(get(name).server.app.services.http.port('127.0.0.1:0')!);
      return { hits: total(m, 'coredns_cache_hits_total'), passed: total(m, 'clusterdns_cache_passed_total') };
    };
    for (const name of ['kubeadm', 'talos', 'eks']) {
      const was = await counts(name);
      for (let i = 0; i < 2; i++) {
        await ask(name, ['A', `kube-dns.kube-system.svc.${DOMAIN}`]);
        await ask(name, ['A', `nothing-${i}.kube-system.svc.${DOMAIN}`]);
        await ask(name, ['A', `nothing-${i}.kube-system.svc.${DOMAIN}`]);
      }
      const now = await counts(name);
      assert.equal(now.hits - was.hits, 0, `${name}: cluster answers were served from the cache`);
      // Without `disable`, the cache sees the kubernetes plugin's kept answers and passes them on unstored.
      assert.equal(now.passed - was.passed, name === 'eks' ? 6 : 0, `${name}: kept answers passed`);
    }
  });

  it('log: minikube logs every query; `log . { class error }` (Talos, MicroK8s, OpenShift) logs none of the answered ones', async () => {
    const q = `logged.default.svc.${DOMAIN}`;
    for (const name of ['minikube', 'talos', 'microk8s']) await ask(name, ['A', q]);
    await ask('openshift', ['A', q], 5353);
    const mentions = (name: string): number => get(name).server.logs.filter((l) => l.includes(q)).length;
    assert.equal(mentions('minikube'), 1, get('minikube').server.logs.join('\n'));
    for (const name of ['talos', 'microk8s', 'openshift']) assert.equal(mentions(name), 0, get(name).server.logs.join('\n'));
  });
});

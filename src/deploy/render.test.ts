/**
 * @module deploy/render.test
 * The rendered deployment, parsed back from YAML the way kubectl would read
 * it, and checked: kinds, the Service's ports and fixed IP, probes, RBAC
 * verbs, and the flags of CoreDNS's deploy script.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { deployCommand, parseRenderArgs } from './cli.ts';
import { DEFAULT_RENDER, renderCorefile, renderObjects } from './render.ts';
import { validateManifests } from './validate.ts';

type Obj = Record<string, any>;

function render(args: string[]): { code: number; docs: Obj[]; err: string } {
  let out = '';
  let err = '';
  const code = deployCommand(['render', ...args], (s) => { out += s; }, (s) => { err += s; });
  const docs = parseAllDocuments(out).map((d) => d.toJSON() as Obj);
  return { code, docs, err };
}

test('render prints valid manifests with the kinds a cluster DNS needs', () => {
  const { code, docs, err } = render([]);
  assert.equal(err, '');
  assert.equal(code, 0);
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service', 'ServiceAccount']);
});

test('-i, -d and -r land in the Service and the Corefile', () => {
  const { code, docs } = render(['-i', '10.233.0.3', '-d', 'corp.local', '-r', '10.233.0.0/18', '-r', '172.16.0.0/16']);
  assert.equal(code, 0);
  const svc = docs.find((d) => d.kind === 'Service')!;
  assert.equal(svc.spec.clusterIP, '10.233.0.3');
  assert.equal(svc.metadata.name, 'kube-dns');
  const ports = svc.spec.ports.map((p: Obj) => `${p.port}/${p.protocol}`).sort();
  assert.deepEqual(ports, ['53/TCP', '53/UDP', '9153/TCP']);
  const corefile: string = docs.find((d) => d.kind === 'ConfigMap')!.data.Corefile;
  assert.match(corefile, /kubernetes corp\.local 10\.233\.0\.0\/18 172\.16\.0\.0\/16 \{/);
  assert.match(corefile, /fallthrough 10\.233\.0\.0\/18 172\.16\.0\.0\/16/);
  assert.match(corefile, /forward \. \/etc\/resolv\.conf/);
});

test('-s leaves out the upstream forward', () => {
  const { docs } = render(['-s']);
  const corefile: string = docs.find((d) => d.kind === 'ConfigMap')!.data.Corefile;
  assert.doesNotMatch(corefile, /forward/);
});

test('Deployment: 2 replicas, anti-affinity, probes on health and ready, requests', () => {
  const dep = render([]).docs.find((d) => d.kind === 'Deployment')!;
  assert.equal(dep.spec.replicas, 2);
  assert.ok(dep.spec.template.spec.affinity.podAntiAffinity);
  const c = dep.spec.template.spec.containers[0];
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/health', port: 8080, scheme: 'HTTP' });
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/ready', port: 8181, scheme: 'HTTP' });
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory);
  assert.deepEqual(c.args, ['-conf', '/etc/coredns/Corefile']);
  assert.deepEqual(dep.spec.selector.matchLabels, { 'k8s-app': 'kube-dns' });
});

test('RBAC grants list and watch on exactly the resources the Corefile uses', () => {
  const role = render([]).docs.find((d) => d.kind === 'ClusterRole')!;
  const grants = role.rules.flatMap((r: Obj) => r.resources.map((res: string) => `${r.apiGroups[0] || 'core'}/${res}:${r.verbs.join(',')}`)).sort();
  assert.deepEqual(grants, ['core/namespaces:list,watch', 'core/services:list,watch', 'discovery.k8s.io/endpointslices:list,watch']);
  // pods verified needs the pod watch too
  const text = renderCorefile(DEFAULT_RENDER).replace('pods insecure', 'pods verified');
  const withPods = renderObjects(DEFAULT_RENDER, { path: 'verified', text });
  const podRule = (withPods.find((o) => o.kind === 'ClusterRole') as Obj).rules[0];
  assert.ok(podRule.resources.includes('pods'));
});

test('validation catches broken manifests', () => {
  const objs = renderObjects(DEFAULT_RENDER) as Obj[];
  const svc = objs.find((o) => o.kind === 'Service')!;
  svc.spec.ports = svc.spec.ports.filter((p: Obj) => p.protocol !== 'UDP');
  const role = objs.find((o) => o.kind === 'ClusterRole')!;
  role.rules[0].verbs.push('get', 'delete');
  const cm = objs.find((o) => o.kind === 'ConfigMap')!;
  cm.data.Corefile = '.:53 {\n  kubernetes cluster.local {\n    pods sometimes\n  }\n}\n';
  const problems = validateManifests(objs);
  assert.ok(problems.includes('Service lacks port 53/UDP'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('ClusterRole grants more than list/watch: get, delete')));
  assert.ok(problems.some((p) => /^Corefile: ConfigMap\/Corefile:3: /.test(p)), problems.join('\n'));
});

test('bad flags are usage errors with a clear message; --replicas 1 only warns', () => {
  assert.throws(() => parseRenderArgs(['-i', 'not-an-ip']), /not an IP address/);
  assert.equal(render(['-x']).code, 2);
  for (const [args, message] of [
    [['-d', 'bad domain'], "-d: 'bad domain' is not a domain name"],
    [['-d', 'x}'], "-d: 'x}' is not a domain name"],
    [['-d', 'a..b'], "-d: 'a..b' is not a domain name"],
    [['-r', '10.0.0.0/33'], "-r: '10.0.0.0/33' is not a CIDR"],
    [['-r', '010.0.0.0/8'], "-r: '010.0.0.0/8' is not a CIDR"],
    [['--namespace', 'Bad_NS'], "--namespace: 'Bad_NS' is not a namespace name"],
    [['--replicas', '0'], "--replicas: '0' is not a number of replicas"],
    [['--replicas', 'two'], "--replicas: 'two' is not a number of replicas"],
    [['--image', ''], "--image: '' is not an image reference"],
    [['-d'], '-d needs a value'],
  ] as const) {
    const r = render([...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.ok(r.err.startsWith(message), `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /Usage: clusterdns deploy render/);
  }
  assert.equal(parseRenderArgs(['-d', 'Corp.Local.']).options.domain, 'corp.local');
  const one = render(['--replicas', '1']);
  assert.equal(one.code, 0);
  assert.match(one.err, /^warning: --replicas 1: a single cluster DNS pod/);
  assert.equal(one.docs.find((d) => d.kind === 'Deployment')!.spec.replicas, 1);
});

test('--dnsrecord: the CRD, RBAC and gateway, in --namespace with the gateway --image and --replicas', () => {
  const r = render(['--dnsrecord', '--namespace', 'edge', '--image', 'registry.example/gw:1', '--replicas', '3']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  assert.deepEqual(r.docs.map((d) => d.kind), ['CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Service']);
  const deployment = r.docs.find((d) => d.kind === 'Deployment')!;
  assert.equal(deployment.metadata.namespace, 'edge');
  assert.equal(deployment.spec.replicas, 3);
  assert.equal(deployment.spec.template.spec.containers[0].image, 'registry.example/gw:1');
  for (const b of r.docs.filter((d) => d.kind === 'ClusterRoleBinding')) assert.equal(b.subjects[0].namespace, 'edge');
  // Without --image: the gateway image, not the DNS server's.
  const plain = render(['--dnsrecord']);
  assert.match(plain.docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0].image, /^clusterdns-gateway:/);
  for (const args of [['--dnsrecord', '-d', 'corp.local'], ['--dnsrecord', '--node-local'], ['--dnsrecord', '-i', '10.0.0.10'], ['--dnsrecord', '--corefile', 'Corefile']]) {
    const bad = render(args);
    assert.equal(bad.code, 2, args.join(' '));
    assert.ok(bad.err.startsWith('--dnsrecord takes --namespace, --replicas and --image only'), `${args.join(' ')}: ${bad.err}`);
  }
});

test('--help on deploy and on render prints the usage and exits 0', () => {
  for (const args of [['--help'], ['render', '--help'], ['render', '-h']]) {
    let out = '';
    const code = deployCommand(args, (s) => { out += s; }, () => {});
    assert.equal(code, 0, args.join(' '));
    assert.match(out, /^Usage: clusterdns deploy render/);
  }
  let err = '';
  assert.equal(deployCommand(['apply'], () => {}, (s) => { err += s; }), 2);
  assert.match(err, /^unknown deploy subcommand 'apply'/);
});

test('the real CLI prints the manifests', () => {
  const r = spawnSync(process.execPath, ['src/main.ts', 'deploy', 'render', '-i', '10.96.0.10'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /kind: Deployment/);
});

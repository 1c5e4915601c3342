/**
 * @module deploy/render-corefile.test
 * `deploy render --corefile FILE` with each distribution's default Corefile
 * (test/support/fixtures/corefiles): the file lands in the ConfigMap as it
 * is, the real parser checks it (a bad one is refused with FILE:LINE), and
 * the ClusterRole grants what that Corefile uses and nothing more (a
 * `dnsrecord` block reading the API included, through the real CLI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseCorefile } from '../corefile/parser.ts';
import { deployCommand } from './cli.ts';
import { rbacRules } from './rbac.ts';

type Obj = Record<string, any>;
const FIXTURES = fileURLToPath(new URL('../../test/support/fixtures/corefiles/', import.meta.url));
/** The distribution Corefiles as shipped (test/compat); kubeadm's and k3s's are templates, so FIXTURES has them rendered. */
const SHIPPED = fileURLToPath(new URL('../../test/compat/corefiles/', import.meta.url));
const API_READ = ['core/namespaces', 'core/services', 'discovery.k8s.io/endpointslices'];

function render(args: string[]): { code: number; docs: Obj[]; err: string } {
  let out = '';
  let err = '';
  const code = deployCommand(['render', ...args], (s) => { out += s; }, (s) => { err += s; });
  return { code, docs: parseAllDocuments(out).map((d) => d.toJSON() as Obj), err };
}

function grants(docs: Obj[]): string[] {
  const role = docs.find((d) => d.kind === 'ClusterRole')!;
  for (const r of role.rules) assert.deepEqual(r.verbs, ['list', 'watch']);
  return role.rules.flatMap((r: Obj) => r.resources.map((res: string) => `${r.apiGroups[0] || 'core'}/${res}`)).sort();
}

const cases: [file: string, want: string[]][] = [
  ['kubeadm.Corefile', API_READ],
  ['k3s.Corefile', API_READ],
  [join(SHIPPED, 'rke2.Corefile'), API_READ],
  [join(SHIPPED, 'eks.Corefile'), API_READ],
  [join(SHIPPED, 'microk8s.Corefile'), API_READ],
  ['verified-noendpoints.Corefile', ['core/namespaces', 'core/pods', 'core/services']],
];

for (const [file, want] of cases) {
  test(`--corefile ${basename(file)}: shipped as is, RBAC ${want.join(' ')}`, () => {
    const path = isAbsolute(file) ? file : join(FIXTURES, file);
    const r = render(['--corefile', path]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(r.docs.find((d) => d.kind === 'ConfigMap')!.data.Corefile, readFileSync(path, 'utf8'));
    assert.deepEqual(grants(r.docs), want);
  });
}

test('RBAC comes from the parsed Corefile: autopath @kubernetes and dnsrecord reading the API', () => {
  const rules = (text: string): string[] =>
    rbacRules(parseCorefile(text, 'Corefile', { env: {} })).flatMap((r) => r.resources.map((res) => `${r.apiGroups[0] || 'core'}/${res}`)).sort();
  assert.deepEqual(rules('.:53 {\n  kubernetes cluster.local {\n    pods insecure\n  }\n  autopath @kubernetes\n}\n'), [...API_READ, 'core/pods'].sort());
  assert.deepEqual(rules('.:53 {\n  autopath @kubernetes\n}\n'), ['core/pods']);
  assert.deepEqual(rules('.:53 {\n  autopath cluster.local\n}\n'), []);
  assert.deepEqual(rules('example.org {\n  dnsrecord\n}\n'), ['clusterdns.io/dnsrecords', 'core/services', 'discovery.k8s.io/endpointslices']);
  assert.deepEqual(rules('example.org {\n  dnsrecord {\n    manifests records\n  }\n}\n'), []);
  assert.deepEqual(rules('example.org {\n  dnsrecord {\n    etcd http://127.0.0.1:2379\n  }\n}\n'), []);
  // The kubernetes plugin fed from a manifests folder reads no API.
  assert.deepEqual(rules('.:53 {\n  kubernetes cluster.local {\n    manifests cluster\n  }\n}\n'), []);
  // A comment or option value that merely contains the words changes nothing (the old text match would have).
  assert.deepEqual(rules('# pods verified\n.:53 {\n  whoami\n}\n'), []);
});

test('a Corefile the parser refuses is not rendered: FILE:LINE on stderr, exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-render-'));
  try {
    const bad = join(dir, 'Corefile');
    writeFileSync(bad, '.:53 {\n  health\n  ready\n  kubernetes cluster.local {\n    pods sometimes\n  }\n');
    const r = render(['--corefile', bad]);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`^${bad.replaceAll('/', '\\/')}:\\d+: `));
    assert.deepEqual(r.docs.filter((d) => d !== null), []);
    writeFileSync(bad, '.:53 {\n  health\n  ready\n  kubernetes cluster.local {\n    pods sometimes\n  }\n}\n');
    const setup = render(['--corefile', bad]);
    assert.equal(setup.code, 1);
    assert.match(setup.err, /Corefile: .*:5: plugin\/kubernetes: /);
    writeFileSync(bad, '.:53 {\n  whoami\n}\n');
    const noProbes = render(['--corefile', bad]);
    assert.equal(noProbes.code, 1);
    assert.match(noProbes.err, /no health plugin, but the liveness probe GETs \/health/);
    assert.match(noProbes.err, /no ready plugin, but the readiness probe GETs \/ready/);
    const missing = render(['--corefile', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^--corefile: cannot read .*nope/);
    const mixed = render(['--corefile', join(FIXTURES, 'kubeadm.Corefile'), '-d', 'corp.local']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.err, /^-d shapes the generated Corefile; with --corefile, change your Corefile instead/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real CLI: a Corefile whose dnsrecord block reads the API gets the dnsrecords RBAC; from etcd, none', () => {
  const cli = (file: string): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['src/main.ts', 'deploy', 'render', '--corefile', file], { encoding: 'utf8', timeout: 20_000 });
  const api = join(FIXTURES, 'dnsrecord-api.Corefile');
  const r = cli(api);
  assert.equal(r.status, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJSON() as Obj);
  assert.equal(docs.find((d) => d.kind === 'ConfigMap')!.data.Corefile, readFileSync(api, 'utf8'));
  assert.deepEqual(grants(docs), ['clusterdns.io/dnsrecords', 'core/services', 'discovery.k8s.io/endpointslices']);
  assert.deepEqual(docs.find((d) => d.kind === 'ClusterRole')!.rules.find((rule: Obj) => rule.apiGroups[0] === 'clusterdns.io').resources, ['dnsrecords']);
  // The same block fed from etcd reads nothing from the API.
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-render-'));
  try {
    const etcd = join(dir, 'Corefile');
    writeFileSync(etcd, readFileSync(api, 'utf8').replace('gateway 10.96.0.80', 'etcd http://127.0.0.1:2379\n       gateway 10.96.0.80'));
    const e = cli(etcd);
    assert.equal(e.status, 0, e.stderr);
    assert.deepEqual(parseAllDocuments(e.stdout).map((d) => d.toJSON() as Obj).find((d) => d.kind === 'ClusterRole')!.rules, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real CLI renders an operator Corefile', () => {
  const r = spawnSync(process.execPath, ['src/main.ts', 'deploy', 'render', '--corefile', join(FIXTURES, 'k3s.Corefile')], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /hosts \/etc\/coredns\/NodeHosts/);
});

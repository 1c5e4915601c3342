/**
 * @module pod/resolv-conf.test
 * `clusterdns resolv-conf` through the real CLI, case by case from the
 * kubelet's own tables (pkg/kubelet/network/dns/dns_test.go: TestParseResolvConf,
 * TestFormDNSSearchFitsLimits, TestFormDNSNameserversFitsLimits,
 * TestMergeDNSOptions, TestGetPodDNSType, TestGetPodDNS, TestGetPodDNSCustom):
 * the kubelet's expected nameservers/searches/options are written out as the
 * file the runtime writes, and compared byte for byte, warnings included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputDir, runCli } from '../../test/support/cli.ts';

const files = inputDir('clusterdns-resolv-');

interface PodSpec {
  name?: string;
  namespace?: string;
  dnsPolicy?: string;
  hostNetwork?: boolean;
  dnsConfig?: unknown;
}

let seq = 0;
function podFile(p: PodSpec): string {
  const { name = 'test_pod', namespace = 'testNS', ...spec } = p;
  return files.write(`pod-${seq++}.json`, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec }));
}

function nodeFile(text: string): string {
  return files.write(`resolv-${seq++}.conf`, text);
}

/** The runtime's file for a kubelet DNSConfig. */
function conf(servers: string[], searches: string[], options: string[]): string {
  return (searches.length > 0 ? `search ${searches.join(' ')}\n` : '') + servers.map((s) => `nameserver ${s}\n`).join('') +
    (options.length > 0 ? `options ${options.join(' ')}\n` : '');
}

/** stderr lines that are the kubelet's (not our amplification notes). */
function kubeletLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.startsWith('note: '));
}

function resolv(args: string[]): { status: number | null; stdout: string; warnings: string[]; stderr: string } {
  const r = runCli(['resolv-conf', ...args]);
  return { status: r.status, stdout: r.stdout, warnings: kubeletLines(r.stderr), stderr: r.stderr };
}

// ---- TestParseResolvConf: the node file, seen through dnsPolicy Default ----
const PARSE_CASES: [data: string, ns: string[], search: string[], opts: string[], isErr: boolean][] = [
  ['', [], [], [], false],
  [' ', [], [], [], false],
  ['\n', [], [], [], false],
  ['\t\n\t', [], [], [], false],
  ['#comment\n', [], [], [], false],
  [' #comment\n', [], [], [], false],
  ['#comment\n#comment', [], [], [], false],
  ['#comment\nnameserver', [], [], [], true],
  ['#comment\nnameserver\nsearch', [], [], [], true],
  ['#comment\nnameserver 1.2.3.4\nsearch', ['1.2.3.4'], [], [], false],
  ['nameserver 1.2.3.4', ['1.2.3.4'], [], [], false],
  [' nameserver 1.2.3.4', ['1.2.3.4'], [], [], false],
  ['\tnameserver 1.2.3.4', ['1.2.3.4'], [], [], false],
  ['nameserver\t1.2.3.4', ['1.2.3.4'], [], [], false],
  ['nameserver \t 1.2.3.4', ['1.2.3.4'], [], [], false],
  ['nameserver 1.2.3.4\nnameserver 5.6.7.8', ['1.2.3.4', '5.6.7.8'], [], [], false],
  ['nameserver 1.2.3.4 #comment', ['1.2.3.4'], [], [], false],
  ['search ', [], [], [], false],
  ['search foo', [], ['foo'], [], false],
  ['search foo bar', [], ['foo', 'bar'], [], false],
  ['search foo. bar', [], ['foo', 'bar'], [], false],
  ['search foo bar bat\n', [], ['foo', 'bar', 'bat'], [], false],
  ['search foo\nsearch bar', [], ['bar'], [], false],
  ['nameserver 1.2.3.4\nsearch foo bar', ['1.2.3.4'], ['foo', 'bar'], [], false],
  ['nameserver 1.2.3.4\nsearch foo\nnameserver 5.6.7.8\nsearch bar', ['1.2.3.4', '5.6.7.8'], ['bar'], [], false],
  ['#comment\nnameserver 1.2.3.4\n#comment\nsearch foo\ncomment', ['1.2.3.4'], ['foo'], [], false],
  ['options ', [], [], [], false],
  ['options ndots:5 attempts:2', [], [], ['ndots:5', 'attempts:2'], false],
  ['options ndots:1\noptions ndots:5 attempts:3', [], [], ['ndots:5', 'attempts:3'], false],
  ['nameserver 1.2.3.4\nsearch foo\nnameserver 5.6.7.8\nsearch bar\noptions ndots:5 attempts:4', ['1.2.3.4', '5.6.7.8'], ['bar'], ['ndots:5', 'attempts:4'], false],
  // Beyond the kubelet's table: `domain` is ignored, as every keyword it does not read.
  ['domain example.org\nnameserver 1.2.3.4\nsortlist 10.0.0.0/8', ['1.2.3.4'], [], [], false],
];

test('the node file is parsed as the kubelet parses it (TestParseResolvConf)', () => {
  const pod = podFile({ dnsPolicy: 'Default' });
  for (const [data, ns, search, opts, isErr] of PARSE_CASES) {
    const r = resolv(['--pod', pod, '--node-resolv-conf', nodeFile(data)]);
    if (isErr) {
      assert.equal(r.status, 1, `${JSON.stringify(data)} is rejected`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, 'nameserver list is empty \n', 'the kubelet\'s message');
    } else {
      assert.equal(r.status, 0, `${JSON.stringify(data)}: ${r.stderr}`);
      assert.equal(r.stdout, conf(ns, search, opts), JSON.stringify(data));
      assert.deepEqual(r.warnings, []);
    }
  }
});

// ---- TestFormDNSSearchFitsLimits ----
const LIST_2048 = [ 'A'.repeat(128), ...Array.from({ length: 15 }, () => 'A'.repeat(127)) ];
const NUMBERS = Array.from({ length: 30 }, (_, i) => String(i + 4)); // "4" .. "33"
const SEARCH_LIMIT = 'Warning DNSConfigForming Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ';

test('search list limits, in the kubelet\'s order and with its warning (TestFormDNSSearchFitsLimits)', () => {
  const clusterFirst = podFile({});
  const cases: { desc: string; node: string[]; want: string[]; warnings: string[] }[] = [
    { desc: 'valid: 3 search paths', node: [], want: ['testNS.svc.TEST', 'svc.TEST', 'TEST'], warnings: [] },
    { desc: 'valid: 5 search paths', node: ['AAA', 'BBB'], want: ['testNS.svc.TEST', 'svc.TEST', 'TEST', 'AAA', 'BBB'], warnings: [] },
    {
      desc: 'invalid: 256-character search path', node: ['AAA', 'B'.repeat(256), 'BBB'],
      want: ['testNS.svc.TEST', 'svc.TEST', 'TEST', 'AAA', 'BBB'],
      warnings: [
        `Warning CheckLimitsForResolvConf Resolv.conf file "NODE" contains a search path which length is more than allowed 253 chars!`,
        `${SEARCH_LIMIT}testNS.svc.TEST svc.TEST TEST AAA BBB`,
      ],
    },
    { desc: 'valid: 7 search paths (the old limit of 6 is gone)', node: ['AAA', 'BBB', 'CCC', 'DDD'], want: ['testNS.svc.TEST', 'svc.TEST', 'TEST', 'AAA', 'BBB', 'CCC', 'DDD'], warnings: [] },
    { desc: 'valid: 32 search paths', node: NUMBERS.slice(0, 29), want: ['testNS.svc.TEST', 'svc.TEST', 'TEST', ...NUMBERS.slice(0, 29)], warnings: [] },
    {
      desc: 'invalid: 33 search paths', node: NUMBERS,
      want: ['testNS.svc.TEST', 'svc.TEST', 'TEST', ...NUMBERS.slice(0, 29)],
      warnings: [
        "Warning CheckLimitsForResolvConf Resolv.conf file 'NODE' contains search line consisting of more than 29 domains!",
        `${SEARCH_LIMIT}testNS.svc.TEST svc.TEST TEST ${NUMBERS.slice(0, 29).join(' ')}`,
      ],
    },
  ];
  for (const c of cases) {
    const node = nodeFile(`nameserver 192.0.2.53\nsearch ${c.node.join(' ')}\n`);
    const r = resolv(['--pod', clusterFirst, '--cluster-dns', '203.0.113.1', '--cluster-domain', 'TEST', '--node-resolv-conf', node]);
    assert.equal(r.status, 0, c.desc);
    assert.equal(r.stdout, conf(['203.0.113.1'], c.want, ['ndots:5']), c.desc);
    assert.deepEqual(r.warnings, c.warnings.map((w) => w.replace('NODE', node)), c.desc);
  }

  // The 2048-character line, as the kubelet's table has it: through dnsPolicy Default, so the list is exactly the node's.
  const dflt = podFile({ dnsPolicy: 'Default' });
  const exact = resolv(['--pod', dflt, '--cluster-domain', 'TEST', '--node-resolv-conf', nodeFile(`search ${LIST_2048.join(' ')}\n`)]);
  assert.equal(LIST_2048.join(' ').length, 2048);
  assert.equal(exact.stdout, conf([], LIST_2048, []), 'valid: 2048 characters in search path list');
  assert.deepEqual(exact.warnings, []);
  const over = nodeFile(`search ${[...LIST_2048, 'B'].join(' ')}\n`);
  const cut = resolv(['--pod', dflt, '--cluster-domain', 'TEST', '--node-resolv-conf', over]);
  assert.equal(cut.stdout, conf([], LIST_2048, []), 'invalid: 2050 characters in search path list');
  assert.deepEqual(cut.warnings, [
    `Warning CheckLimitsForResolvConf Resolv.conf file '${over}' contains search line which length is more than allowed 2048 chars!`,
    `${SEARCH_LIMIT}${LIST_2048.join(' ')}`,
  ]);
});

test('at most three nameservers, with the kubelet\'s warning (TestFormDNSNameserversFitsLimits)', () => {
  const empty = nodeFile('');
  const cases: [string[], string[], boolean][] = [
    [['127.0.0.1'], ['127.0.0.1'], false],
    [['127.0.0.1', '10.0.0.10', '8.8.8.8'], ['127.0.0.1', '10.0.0.10', '8.8.8.8'], false],
    [['127.0.0.1', '10.0.0.10', '8.8.8.8', '1.2.3.4'], ['127.0.0.1', '10.0.0.10', '8.8.8.8'], true],
  ];
  for (const [given, want, warned] of cases) {
    const pod = podFile({ dnsPolicy: 'None', dnsConfig: { nameservers: given } });
    const r = resolv(['--pod', pod, '--node-resolv-conf', empty]);
    assert.equal(r.stdout, conf(want, [], []));
    assert.deepEqual(r.warnings, warned
      ? ['Warning DNSConfigForming Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 127.0.0.1 10.0.0.10 8.8.8.8']
      : []);
  }
});

test('options merge by name, the pod\'s value winning, value-less options bare (TestMergeDNSOptions)', () => {
  const node = nodeFile('options ndots:5 debug\n');
  const cases: [unknown[] | undefined, string[]][] = [
    [undefined, ['ndots:5', 'debug']],
    [[{ name: 'single-request' }, { name: 'attempts', value: '3' }], ['ndots:5', 'debug', 'single-request', 'attempts:3']],
    [[{ name: 'ndots', value: '3' }, { name: 'debug' }, { name: 'single-request' }, { name: 'attempts', value: '3' }], ['ndots:3', 'debug', 'single-request', 'attempts:3']],
    // value: "" is a bare option too.
    [[{ name: 'ndots', value: '' }], ['ndots', 'debug']],
  ];
  for (const [options, want] of cases) {
    const pod = podFile({ dnsPolicy: 'Default', ...(options === undefined ? {} : { dnsConfig: { options } }) });
    assert.equal(resolv(['--pod', pod, '--node-resolv-conf', node]).stdout, conf([], [], want));
  }
});

test('the policy the kubelet applies (TestGetPodDNSType)', () => {
  const node = nodeFile('nameserver 192.0.2.53\nsearch node.example\noptions timeout:2\n');
  const cluster = conf(['203.0.113.1'], ['testNS.svc.TEST', 'svc.TEST', 'TEST', 'node.example'], ['ndots:5']);
  const host = conf(['192.0.2.53'], ['node.example'], ['timeout:2']);
  const cases: [desc: string, policy: string, hostNetwork: boolean, hasClusterDns: boolean, want: string][] = [
    ['valid DNSClusterFirst without hostnetwork', 'ClusterFirst', false, true, cluster],
    ['unset dnsPolicy is ClusterFirst', '', false, true, cluster],
    ['valid DNSClusterFirstWithHostNet with hostnetwork', 'ClusterFirstWithHostNet', true, true, cluster],
    ['valid DNSClusterFirstWithHostNet without hostnetwork', 'ClusterFirstWithHostNet', false, true, cluster],
    ['valid DNSDefault without hostnetwork', 'Default', false, false, host],
    ['valid DNSDefault with hostnetwork', 'Default', true, false, host],
    ['DNSClusterFirst with hostnetwork, fallback to DNSDefault', 'ClusterFirst', true, true, host],
    ['valid DNSNone', 'None', false, false, ''],
  ];
  for (const [desc, dnsPolicy, hostNetwork, hasClusterDns, want] of cases) {
    const pod = podFile({ ...(dnsPolicy === '' ? {} : { dnsPolicy }), hostNetwork });
    const r = resolv(['--pod', pod, '--cluster-domain', 'TEST', '--node-resolv-conf', node, ...(hasClusterDns ? ['--cluster-dns', '203.0.113.1'] : [])]);
    assert.equal(r.status, 0, desc);
    assert.equal(r.stdout, want, desc);
    assert.deepEqual(r.warnings, [], desc);
  }
  // An invalid policy: the kubelet logs an error and uses ClusterFirst.
  const bad = resolv(['--pod', podFile({ dnsPolicy: 'invalidPolicy' }), '--cluster-domain', 'TEST', '--node-resolv-conf', node, '--cluster-dns', '203.0.113.1']);
  assert.equal(bad.stdout, cluster);
  assert.deepEqual(bad.warnings, ['Error "Failed to get DNS type for pod. Falling back to DNSClusterFirst policy." err="invalid DNSPolicy=invalidPolicy" pod="testNS/test_pod"']);
});

test('no --cluster-dns: ClusterFirst falls back to Default with the kubelet\'s warnings', () => {
  const node = nodeFile('nameserver 192.0.2.53\nsearch node.example\n');
  const r = resolv(['--pod', podFile({}), '--node-resolv-conf', node]);
  assert.equal(r.stdout, conf(['192.0.2.53'], ['node.example'], []));
  const msg = 'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.';
  assert.deepEqual(r.warnings, [`Warning MissingClusterDNS ${msg}`, `Warning MissingClusterDNS pod: "test_pod_testNS()". ${msg}`]);
});

test('--node-resolv-conf \'\' is the kubelet\'s --resolv-conf="" (testGetPodDNS)', () => {
  const base = ['--cluster-dns', '203.0.113.1', '--cluster-domain', 'kubernetes.io', '--node-resolv-conf', ''];
  const pod = (dnsPolicy: string, hostNetwork: boolean): string => podFile({ name: 'pod0', namespace: 'ns0', dnsPolicy, hostNetwork });
  assert.equal(resolv(['--pod', pod('ClusterFirstWithHostNet', true), ...base]).stdout,
    conf(['203.0.113.1'], ['ns0.svc.kubernetes.io', 'svc.kubernetes.io', 'kubernetes.io'], ['ndots:5']));
  assert.equal(resolv(['--pod', pod('ClusterFirst', true), ...base]).stdout, conf(['127.0.0.1'], ['.'], []));
  assert.equal(resolv(['--pod', pod('ClusterFirst', false), ...base]).stdout,
    conf(['203.0.113.1'], ['ns0.svc.kubernetes.io', 'svc.kubernetes.io', 'kubernetes.io'], ['ndots:5']));
  assert.equal(resolv(['--pod', pod('Default', true), ...base]).stdout, conf(['127.0.0.1'], ['.'], []));
  // The node's own resolver per node IP family.
  assert.equal(resolv(['--pod', pod('Default', false), ...base, '--node-ip', '192.0.2.1', '--node-ip', '2001:db8::1']).stdout,
    conf(['127.0.0.1', '::1'], ['.'], []));
});

test('dnsConfig merged into every policy (TestGetPodDNSCustom)', () => {
  const node = nodeFile('nameserver 8.8.8.8\nsearch host.domain\n');
  const args = ['--cluster-dns', '10.0.0.10', '--cluster-domain', 'kubernetes.io', '--node-resolv-conf', node];
  const custom = { nameservers: ['10.0.0.11'], searches: ['my.domain'], options: [{ name: 'ndots', value: '3' }, { name: 'debug' }] };
  const clusterSearch = ['testNS.svc.kubernetes.io', 'svc.kubernetes.io', 'kubernetes.io', 'host.domain', 'my.domain'];
  const cases: [desc: string, spec: PodSpec, want: string][] = [
    ['DNSNone without DNSConfig should have empty DNS settings', { dnsPolicy: 'None' }, ''],
    ['DNSNone with DNSConfig should have a merged DNS settings',
      { dnsPolicy: 'None', dnsConfig: { nameservers: ['203.0.113.1'], searches: ['my.domain', 'second.domain'], options: custom.options } },
      conf(['203.0.113.1'], ['my.domain', 'second.domain'], ['ndots:3', 'debug'])],
    ['DNSClusterFirst with DNSConfig should have a merged DNS settings', { dnsPolicy: 'ClusterFirst', dnsConfig: custom },
      conf(['10.0.0.10', '10.0.0.11'], clusterSearch, ['ndots:3', 'debug'])],
    ['DNSClusterFirstWithHostNet with DNSConfig should have a merged DNS settings', { dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true, dnsConfig: custom },
      conf(['10.0.0.10', '10.0.0.11'], clusterSearch, ['ndots:3', 'debug'])],
    ['DNSDefault with DNSConfig should have a merged DNS settings', { dnsPolicy: 'Default', dnsConfig: custom },
      conf(['8.8.8.8', '10.0.0.11'], ['host.domain', 'my.domain'], ['ndots:3', 'debug'])],
    // De-duplication: a nameserver or search already there is not repeated.
    ['duplicates are dropped', { dnsPolicy: 'ClusterFirst', dnsConfig: { nameservers: ['10.0.0.10'], searches: ['svc.kubernetes.io', 'host.domain'] } },
      conf(['10.0.0.10'], ['testNS.svc.kubernetes.io', 'svc.kubernetes.io', 'kubernetes.io', 'host.domain'], ['ndots:5'])],
  ];
  for (const [desc, spec, want] of cases) {
    const r = resolv(['--pod', podFile(spec), ...args]);
    assert.equal(r.status, 0, desc);
    assert.equal(r.stdout, want, desc);
  }
});

test('--json, workloads as pod files, and bad input', () => {
  const node = nodeFile('nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 1.1.1.1\n');
  const deployment = files.write('deploy.yaml', [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: web, namespace: shop}',
    'spec:', '  template:', '    spec:', '      dnsConfig: {nameservers: [10.0.0.11, 10.0.0.12]}',
    '---', 'apiVersion: v1', 'kind: Service', 'metadata: {name: api, namespace: shop}', '',
  ].join('\n'));
  const r = runCli(['resolv-conf', '--pod', deployment, '--cluster-dns', '10.96.0.10', '--node-resolv-conf', node, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { nameservers: string[]; searches: string[]; options: string[]; warnings: string[]; amplification: { name: string; queries: number }[] };
  assert.deepEqual(j.nameservers, ['10.96.0.10', '10.0.0.11', '10.0.0.12']);
  assert.deepEqual(j.searches, ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
  assert.deepEqual(j.options, ['ndots:5']);
  assert.deepEqual(j.warnings, []);
  // The file's Service, looked up by its short name from its own namespace: found on the first try.
  assert.deepEqual(j.amplification.map((a) => [a.name, a.queries]), [['api', 2]]);

  const cron = files.write('cron.json', JSON.stringify({
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'ops' },
    spec: { jobTemplate: { spec: { template: { spec: { dnsPolicy: 'Default' } } } } },
  }));
  assert.equal(runCli(['resolv-conf', '--pod', cron, '--node-resolv-conf', node]).stdout, conf(['8.8.8.8', '8.8.4.4', '1.1.1.1'], [], []));

  const missing = runCli(['resolv-conf', '--pod', deployment, '--cluster-dns', '10.96.0.10', '--node-resolv-conf', `${files.dir}/nope`]);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, `open ${files.dir}/nope: no such file or directory\n`);
  const notPod = runCli(['resolv-conf', '--pod', files.write('cm.yaml', 'kind: ConfigMap\nmetadata: {name: x}\n')]);
  assert.equal(notPod.status, 1);
  assert.match(notPod.stderr, /no Pod or workload/);
  const badFlag = runCli(['resolv-conf', '--pod', deployment, '--cluster-dns', 'ten']);
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /invalid value "ten" for flag -cluster-dns/);
});

test('the amplification note: queries per name for the search list and ndots', () => {
  const node = nodeFile('nameserver 192.0.2.53\nsearch corp.example\n');
  const r = resolv(['--pod', podFile({ namespace: 'shop' }), '--cluster-dns', '10.96.0.10', '--node-resolv-conf', node,
    '--name', 'api.example.com', '--name', 'api.example.com.', '--name', 'kubernetes.default']);
  const notes = r.stderr.split('\n').filter((l) => l.startsWith('note: '));
  assert.deepEqual(notes, [
    'note: api.example.com: 5 tries, 10 queries (A and AAAA), 8 of them NXDOMAIN; avoid them with a trailing dot (api.example.com.), a lower ndots (ndots:2 tries it first; now ndots:5), or autopath on the server',
    'note: api.example.com.: 1 try, 2 queries (A and AAAA): no search-path overhead',
    'note: kubernetes.default: 2 tries, 4 queries (A and AAAA), 2 of them NXDOMAIN; avoid them by asking for kubernetes.default.svc.cluster.local. (full name, trailing dot), or autopath on the server',
  ]);
  // A hostNetwork pod on ClusterFirst gets the node's DNS: cluster names do not resolve at all.
  const hostNet = resolv(['--pod', podFile({ hostNetwork: true }), '--cluster-dns', '10.96.0.10', '--node-resolv-conf', node]);
  assert.equal(hostNet.stdout, conf(['192.0.2.53'], ['corp.example'], []));
  assert.deepEqual(hostNet.stderr.split('\n').filter((l) => l.startsWith('note: ')), ['note: kubernetes.default: 2 tries, 4 queries (A and AAAA), every one NXDOMAIN']);
});

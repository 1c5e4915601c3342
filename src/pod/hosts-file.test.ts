/**
 * @module pod/hosts-file.test
 * `clusterdns hosts` through the real CLI against the kubelet's own tables
 * (kubelet_pods_test.go: TestManagedHostsFileContent, TestNodeHostsFileContent),
 * byte for byte; plus the hostname rules of GeneratePodHostNameAndDomain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputDir, runCli } from '../../test/support/cli.ts';

const files = inputDir('clusterdns-hosts-');
let seq = 0;

function podFile(spec: Record<string, unknown>, opts: { name?: string; namespace?: string; podIPs?: string[] } = {}): string {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: opts.name ?? 'podFoo', namespace: opts.namespace ?? 'nsfoo' }, spec,
    ...(opts.podIPs === undefined ? {} : { status: { podIP: opts.podIPs[0], podIPs: opts.podIPs.map((ip) => ({ ip })) } }),
  };
  return files.write(`pod-${seq++}.json`, JSON.stringify(pod));
}

const MANAGED = `# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
`;

const FOO = { ip: '123.45.67.89', hostnames: ['foo', 'bar', 'baz'] };
const PARK = { ip: '456.78.90.123', hostnames: ['park', 'doo', 'boo'] };

test('the managed hosts file (TestManagedHostsFileContent)', () => {
  // The kubelet's table gives the domain directly; a pod gets it as <subdomain>.<namespace>.svc.<cluster-domain>.
  const domain = 'sub.nsfoo.svc.cluster.local';
  const cases: [desc: string, ips: string[], spec: Record<string, unknown>, want: string][] = [
    ['no subdomain', ['123.45.67.89'], {}, `${MANAGED}123.45.67.89\tpodFoo\n`],
    ['subdomain', ['203.0.113.1'], { subdomain: 'sub' }, `${MANAGED}203.0.113.1\tpodFoo.${domain}\tpodFoo\n`],
    ['one host alias', ['203.0.113.1'], { subdomain: 'sub', hostAliases: [FOO] },
      `${MANAGED}203.0.113.1\tpodFoo.${domain}\tpodFoo\n\n# Entries added by HostAliases.\n123.45.67.89\tfoo\tbar\tbaz\n`],
    ['two host aliases', ['203.0.113.1'], { subdomain: 'sub', hostAliases: [FOO, PARK] },
      `${MANAGED}203.0.113.1\tpodFoo.${domain}\tpodFoo\n\n# Entries added by HostAliases.\n123.45.67.89\tfoo\tbar\tbaz\n456.78.90.123\tpark\tdoo\tboo\n`],
    ['dual stack', ['203.0.113.1', 'fd00::6'], { subdomain: 'sub' },
      `${MANAGED}203.0.113.1\tpodFoo.${domain}\tpodFoo\nfd00::6\tpodFoo.${domain}\tpodFoo\n`],
  ];
  for (const [desc, ips, spec, want] of cases) {
    // status.podIPs by default ...
    const fromStatus = runCli(['hosts', '--pod', podFile(spec, { podIPs: ips })]);
    assert.equal(fromStatus.status, 0, `${desc}: ${fromStatus.stderr}`);
    assert.equal(fromStatus.stdout, want, desc);
    // ... or --pod-ip, which replaces them.
    const given = runCli(['hosts', '--pod', podFile(spec, { podIPs: ['192.0.2.99'] }), ...ips.flatMap((ip) => ['--pod-ip', ip])]);
    assert.equal(given.stdout, want, `${desc} (--pod-ip)`);
  }
});

test('a hostNetwork pod gets the node\'s file under its own header (TestNodeHostsFileContent)', () => {
  // The kubelet's node files: a comment, the same localhost and IPv6 lines as the managed file, one host line.
  const lines = MANAGED.slice(MANAGED.indexOf('\n') + 1);
  const raw1 = `# hosts file for testing.\n${lines}123.45.67.89\tsome.domain\n`;
  const raw2 = raw1.replace('# hosts file for testing.', '# another hosts file for testing.').replace('123.45.67.89\tsome.domain', '12.34.56.78\tanother.domain');
  const header = '# Kubernetes-managed hosts file (host network).\n';
  const cases: [raw: string, aliases: unknown[], want: string][] = [
    [raw1, [], header + raw1],
    [raw2, [], header + raw2],
    [raw1, [FOO], `${header}${raw1}\n# Entries added by HostAliases.\n123.45.67.89\tfoo\tbar\tbaz\n`],
    [raw2, [FOO, PARK], `${header}${raw2}\n# Entries added by HostAliases.\n123.45.67.89\tfoo\tbar\tbaz\n456.78.90.123\tpark\tdoo\tboo\n`],
  ];
  for (const [raw, hostAliases, want] of cases) {
    const node = files.write(`hosts-${seq++}`, raw);
    const r = runCli(['hosts', '--pod', podFile({ hostNetwork: true, hostAliases }, { podIPs: ['10.0.0.5'] }), '--node-hosts', node]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, want);
  }
});

test('hostname: spec.hostname, 63-character cut with trailing - and . trimmed, invalid labels rejected', () => {
  const hostname = runCli(['hosts', '--pod', podFile({ hostname: 'db-0', subdomain: 'db' }, { namespace: 'data' }), '--pod-ip', '10.1.0.4', '--cluster-domain', 'example.internal']);
  assert.equal(hostname.stdout, `${MANAGED}10.1.0.4\tdb-0.db.data.svc.example.internal\tdb-0\n`);

  const long = `${'a'.repeat(62)}-tail`; // 67 characters: the cut at 63 ends in '-', which goes
  const cut = runCli(['hosts', '--pod', podFile({}, { name: long }), '--pod-ip', '10.1.0.5']);
  assert.equal(cut.stdout, `${MANAGED}10.1.0.5\t${'a'.repeat(62)}\n`);
  assert.equal(cut.stderr, `Error "Hostname for pod was too long, truncated it" podName="${long}" hostnameMaxLen=63 truncatedHostname="${'a'.repeat(62)}-"\n`);

  const bad = runCli(['hosts', '--pod', podFile({ hostname: 'Bad_Name' })]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^pod Hostname "Bad_Name" is not a valid DNS label: a lowercase RFC 1123 label must consist of/);

  const noIp = runCli(['hosts', '--pod', files.write('sts.yaml', 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: redis, namespace: cache}\nspec:\n  template:\n    spec: {subdomain: redis}\n')]);
  assert.equal(noIp.stdout, MANAGED, 'a template has no IP yet: no own line');
  const sts = runCli(['hosts', '--pod', `${files.dir}/sts.yaml`, '--pod-ip', '10.1.0.6']);
  assert.equal(sts.stdout, `${MANAGED}10.1.0.6\tredis-0.redis.cache.svc.cluster.local\tredis-0\n`, 'a StatefulSet pod is <name>-0');
});

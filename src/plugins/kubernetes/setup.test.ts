/**
 * @module plugins/kubernetes/setup.test
 * The option parser (O1-O17 and `manifests`): a table of valid snippets with
 * what they set, and of invalid ones with the exact FILE:LINE error, built
 * through the real configuration builder.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildConfig } from '../../config/build.ts';
import { parseCorefile } from '../../corefile/parser.ts';
import { memoryLogger } from '../../log/logger.ts';
import { ProcessServices } from '../../plugin/process-services.ts';
import { builtinRegistry } from '../index.ts';
import { startServer } from '../../../test/support/harness.ts';
import { makeTempDir, removeDir, writeKubeconfig } from '../../../test/support/kubeconfig.ts';
import { parseKubernetesOptions, watchedKinds, type KubernetesOptions } from './options.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function setupError(corefile: string): string {
  try {
    buildConfig(parseCorefile(corefile, 'Corefile', { env: {} }), {
      registry: builtinRegistry(), services: new ProcessServices({ logger: memoryLogger() }), dnsPort: 53, configPath: `${ROOT}Corefile`,
    });
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

/** Options of the first directive of a one-block Corefile. */
function options(body: string, key = '.'): KubernetesOptions {
  const [block] = parseCorefile(`${key} {\n${body}\n}\n`, 'Corefile', { env: {} });
  return parseKubernetesOptions(block!.directives[0]!, { zones: block!.keys.map((k) => k.zone), configDir: ROOT });
}

const M = '    manifests examples/cluster\n';
const k8s = (args: string, inner = ''): string => `. {\n  kubernetes ${args} {\n${M}${inner}  }\n}\n`;

describe('kubernetes options', () => {
  let dir: string;
  let kubeconfig: string;
  before(async () => {
    dir = await makeTempDir('clusterdns-k8s-setup-');
    kubeconfig = await writeKubeconfig(dir, { server: 'http://127.0.0.1:1', token: 't' });
  });
  after(() => removeDir(dir));

  it('accepts every option in valid forms', () => {
    const valid = [
      k8s('cluster.local'),
      k8s('cluster.local in-addr.arpa ip6.arpa', '    pods insecure\n    fallthrough in-addr.arpa ip6.arpa\n    ttl 30\n'),
      k8s('cluster.local 10.96.0.0/16 fd00::/108'),
      k8s('', '    namespaces default kube-system\n    labels app in (web, db), !legacy\n    pods verified\n'),
      k8s('cluster.local', '    namespace_labels team=dns\n    endpoint_pod_names\n    ttl 0\n    ignore empty_service\n'),
      k8s('cluster.local', '    noendpoints\n    startup_timeout 10s\n    apiserver_qps 12.5\n    apiserver_burst 20\n    apiserver_max_inflight 0\n    ttl 3600\n'),
      k8s('cluster.local', '    zonal\n    pods disabled\n    fallthrough\n'),
      '. {\n  kubernetes cluster.local {\n    endpoint http://127.0.0.1:1 http://127.0.0.1:2\n  }\n}\n',
      `. {\n  kubernetes cluster.local {\n    kubeconfig ${kubeconfig}\n    startup_timeout 0\n  }\n}\n`,
      '. {\n  kubernetes cluster.local {\n    endpoint https://127.0.0.1:1\n    tls c.crt c.key ca.crt\n  }\n}\n',
    ];
    for (const c of valid) assert.equal(setupError(c), '', c);
  });

  it('rejects bad options with FILE:LINE: plugin/kubernetes: what (O16)', () => {
    const invalid: [string, string][] = [
      [k8s('cluster.local', '    foo bar\n'), "Corefile:4: plugin/kubernetes: unknown property 'foo'"],
      [k8s('in-addr.arpa ip6.arpa'), 'Corefile:2: plugin/kubernetes: at least one zone must be a forward zone, not only reverse zones'],
      [k8s('10.0.0.0/8'), 'Corefile:2: plugin/kubernetes: at least one zone must be a forward zone, not only reverse zones'],
      [k8s('cluster.local 10.0.0.0/33'), "Corefile:2: plugin/kubernetes: '10.0.0.0/33' is not a CIDR: prefix length must be 0..32"],
      [k8s('cluster.local', '    ttl 3601\n'), 'Corefile:4: plugin/kubernetes: ttl 3601 is out of range 0..3600'],
      [k8s('cluster.local', '    ttl -1\n'), 'Corefile:4: plugin/kubernetes: ttl -1 is out of range 0..3600'],
      [k8s('cluster.local', '    ttl five\n'), "Corefile:4: plugin/kubernetes: ttl 'five' is not a whole number"],
      [k8s('cluster.local', '    pods all\n'), "Corefile:4: plugin/kubernetes: pods: 'all' is not one of disabled, insecure, verified"],
      [k8s('cluster.local', '    pods\n'), "Corefile:4: plugin/kubernetes: 'pods' takes 1 argument, got 0"],
      [k8s('cluster.local', '    labels app=x=y\n'), 'Corefile:4: plugin/kubernetes: labels: invalid selector "app=x=y": expected \',\' between requirements'],
      [k8s('cluster.local', '    labels a in ()\n'), 'Corefile:4: plugin/kubernetes: labels: invalid selector "a in ()": \'in\' needs at least one value'],
      [k8s('cluster.local', '    namespace_labels -x=y\n'), 'Corefile:4: plugin/kubernetes: namespace_labels: invalid label key "-x": name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric'],
      [k8s('cluster.local', '    namespaces a\n    namespace_labels t=x\n'), 'Corefile:5: plugin/kubernetes: namespaces and namespace_labels cannot both be set'],
      [k8s('cluster.local', '    zonal\n    noendpoints\n'), 'Corefile:4: plugin/kubernetes: zonal cannot be used with noendpoints'],
      [k8s('cluster.local', '    multicluster clusterset.local\n'), 'Corefile:4: plugin/kubernetes: multicluster is not supported yet'],
      [k8s('cluster.local', '    ignore everything\n'), "Corefile:4: plugin/kubernetes: ignore: 'everything' is not 'empty_service'"],
      [k8s('cluster.local', '    startup_timeout soon\n'), "Corefile:4: plugin/kubernetes: startup_timeout 'soon' is not a duration (like 5s, 1m, 250ms)"],
      [k8s('cluster.local', '    apiserver_qps -1\n'), "Corefile:4: plugin/kubernetes: apiserver_qps '-1' is not a number >= 0"],
      [k8s('cluster.local', '    apiserver_burst 1.5\n'), "Corefile:4: plugin/kubernetes: apiserver_burst '1.5' is not a whole number"],
      [k8s('cluster.local', '    apiserver_max_inflight -2\n'), 'Corefile:4: plugin/kubernetes: apiserver_max_inflight -2 is out of range 0..1000000'],
      [k8s('cluster.local', '    endpoint_pod_names yes\n'), "Corefile:4: plugin/kubernetes: 'endpoint_pod_names' takes 0 arguments, got 1"],
      [k8s('cluster.local', '    noendpoints now\n'), "Corefile:4: plugin/kubernetes: 'noendpoints' takes 0 arguments, got 1"],
      [k8s('cluster.local', '    endpoint 127.0.0.1:6443\n'), "Corefile:4: plugin/kubernetes: endpoint '127.0.0.1:6443' is not an http:// or https:// URL"],
      [k8s('cluster.local', '    endpoint https://127.0.0.1:6443\n'), "Corefile:3: plugin/kubernetes: manifests cannot be combined with 'endpoint'"],
      [k8s('cluster.local', '    tls a b\n'), "Corefile:4: plugin/kubernetes: 'tls' takes 3 arguments, got 2"],
      [k8s('cluster.local', '    kubeconfig a b c\n'), "Corefile:4: plugin/kubernetes: 'kubeconfig' takes 1 to 2 arguments, got 3"],
      ['. {\n  kubernetes cluster.local {\n    manifests /no/such/place\n  }\n}\n', 'Corefile:3: plugin/kubernetes: manifests: /no/such/place: no such file or directory'],
      ['. {\n  kubernetes cluster.local {\n    manifests\n  }\n}\n', "Corefile:3: plugin/kubernetes: 'manifests' takes at least 1 arguments, got 0"],
      [`. {\n  kubernetes cluster.local {\n${M}  }\n  kubernetes other.local {\n${M}  }\n}\n`, 'Corefile:5: plugin/kubernetes: this plugin can only be used once per server block'],
    ];
    for (const [c, want] of invalid) assert.equal(setupError(c), want, c);
  });

  it('O1 zones: block zones by default, CIDRs expanded, primary = first forward zone', () => {
    assert.deepEqual(options(`  kubernetes {\n${M}  }`, 'cluster.local').zones, ['cluster.local.']);
    const o = options(`  kubernetes 10.96.0.0/23 Cluster.Local ip6.arpa {\n${M}  }`);
    assert.deepEqual(o.zones, ['0.96.10.in-addr.arpa.', '1.96.10.in-addr.arpa.', 'cluster.local.', 'ip6.arpa.']);
    assert.equal(o.primaryZone, 'cluster.local.');
  });

  it('defaults: pods disabled, ttl 5, startup_timeout 5s, endpoints watched, no filters', () => {
    const o = options(`  kubernetes cluster.local {\n${M}  }`);
    assert.equal(o.pods, 'disabled');
    assert.equal(o.ttl, 5);
    assert.equal(o.startupTimeoutMs, 5000);
    assert.equal(o.noEndpoints, false);
    assert.equal(o.namespaces, null);
    assert.equal(o.labels, null);
    assert.deepEqual(o.manifests, [`${ROOT}examples/cluster`]);
    assert.deepEqual(watchedKinds(o), ['Namespace', 'Service', 'EndpointSlice']);
  });

  it('O7/O10 decide the watched kinds', () => {
    assert.deepEqual(watchedKinds(options(`  kubernetes cluster.local {\n${M}    pods verified\n    noendpoints\n  }`)), ['Namespace', 'Service', 'Pod']);
  });

  it('selectors may span several tokens', () => {
    const o = options(`  kubernetes cluster.local {\n${M}    labels app in (a, b),tier\n  }`);
    assert.equal(o.labels?.requirements.length, 2);
    assert.equal(o.labels?.matches({ app: 'b', tier: 'x' }), true);
  });

  it('O3 rate limits are read and kept', () => {
    const o = options(`  kubernetes cluster.local {\n${M}    apiserver_qps 2.5\n    apiserver_burst 7\n    apiserver_max_inflight 3\n  }`);
    assert.deepEqual([o.apiserverQps, o.apiserverBurst, o.apiserverMaxInflight], [2.5, 7, 3]);
  });

  it('connection settings are checked when the server starts, not when the Corefile is read', async () => {
    const saved = [process.env.KUBERNETES_SERVICE_HOST, process.env.KUBERNETES_SERVICE_PORT];
    delete process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_PORT;
    try {
      const cases: [string, RegExp][] = [
        ['.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local\n}\n', /^Corefile:3: plugin\/kubernetes: not running in a cluster/],
        [`.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    kubeconfig ${kubeconfig} other-context\n  }\n}\n`, /^Corefile:3: plugin\/kubernetes: kubeconfig .*: context "other-context" not found$/],
        ['.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    kubeconfig /no/such/kubeconfig\n  }\n}\n', /^Corefile:3: plugin\/kubernetes: ENOENT: no such file or directory/],
      ];
      for (const [corefile, want] of cases) {
        assert.equal(setupError(corefile), '', 'the Corefile itself is valid');
        await assert.rejects(startServer(corefile), (e: Error) => want.test(e.message));
      }
    } finally {
      if (saved[0] !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved[0];
      if (saved[1] !== undefined) process.env.KUBERNETES_SERVICE_PORT = saved[1];
    }
  });
});

/**
 * @module cli/pod-commands
 * `clusterdns resolv-conf` and `clusterdns hosts`: the files a pod gets, as the
 * kubelet computes them, printed byte for byte on stdout; the kubelet's
 * warnings and our notes on stderr. The rules live in src/pod/; this is
 * flag parsing and printing only.
 */
import { readFileSync } from 'node:fs';
import { amplificationAdvice, assumedExistence, searchWalk, type SearchWalk } from '../pod/amplification.ts';
import { managedHostsFile, nodeHostsFile, podHostname } from '../pod/hosts-file.ts';
import { PodFileError, readPodFile, type PodView } from '../pod/pod-file.ts';
import { formatResolvConf, KubeletDnsError, ndotsOf, podResolvConf } from '../pod/resolv-conf.ts';
import { canonicalIp } from '../dns/ip.ts';
import { UsageError } from './args.ts';
import { lastValue, parseFlags, type ParsedFlags } from './flags.ts';

type Write = (s: string) => void;

export const POD_USAGE = `Usage:
  clusterdns resolv-conf --pod POD.yaml [--cluster-dns IP]... [--cluster-domain DOMAIN]
                         [--node-resolv-conf FILE] [--node-ip IP]... [--name NAME]... [--json]
  clusterdns hosts --pod POD.yaml [--pod-ip IP]... [--cluster-domain DOMAIN] [--node-hosts FILE]

  --cluster-dns       the kubelet's --cluster-dns (repeatable; none given: none configured)
  --cluster-domain    the kubelet's --cluster-domain (default cluster.local; '' for none)
  --node-resolv-conf  the kubelet's --resolv-conf (default /etc/resolv.conf; '' as the kubelet's --resolv-conf="")
  --node-ip           the node's IPs (only --node-resolv-conf '' reads them)
  --name              a name to count the search-path queries for (default: the Services in the pod file,
                      else kubernetes.default)
  --pod-ip            the pod's IPs (default: status.podIPs of the pod file)
  --node-hosts        the node's hosts file, for hostNetwork pods (default /etc/hosts)
`;

function ips(f: ParsedFlags, name: string): string[] {
  return (f.values.get(name) ?? []).map((v) => {
    const ip = canonicalIp(v);
    if (ip === null) throw new UsageError(`invalid value "${v}" for flag -${name}: not an IP address`);
    return ip;
  });
}

function podOf(f: ParsedFlags): PodView {
  const file = f.values.get('pod');
  if (file === undefined) throw new UsageError('--pod POD.yaml is required');
  return readPodFile(file[file.length - 1]!);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // Go's os.Open error text, which is what the kubelet reports.
    throw new KubeletDnsError(`open ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  }
}

/** The names whose search-path walk is reported: --name, else the file's Services, else kubernetes.default. */
function walksFor(pod: PodView, f: ParsedFlags, searches: readonly string[], ndots: number, domain: string): SearchWalk[] {
  const d = domain === '' ? '' : `.${domain.replace(/\.$/, '')}.`;
  const known = new Set<string>([`kubernetes.default.svc${d}`]);
  for (const s of pod.services) known.add(`${s.name}.${s.namespace}.svc${d}`);
  let names = f.values.get('name') ?? [];
  if (names.length === 0) {
    names = pod.services.map((s) => (s.namespace === pod.namespace ? s.name : `${s.name}.${s.namespace}`));
    if (names.length === 0) names = ['kubernetes.default'];
  }
  return names.map((n) => searchWalk(n, searches, ndots, assumedExistence(n, domain, known)));
}

function run(writeErr: Write, body: () => number): number {
  try {
    return body();
  } catch (e) {
    if (e instanceof UsageError) {
      writeErr(`${e.message}\n${POD_USAGE}`);
      return 2;
    }
    if (e instanceof KubeletDnsError || e instanceof PodFileError) {
      writeErr(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

const RESOLV_VALUES = new Set(['pod', 'cluster-dns', 'cluster-domain', 'node-resolv-conf', 'node-ip', 'name']);
const HOSTS_VALUES = new Set(['pod', 'pod-ip', 'cluster-domain', 'node-hosts']);

export function resolvConfCommand(argv: readonly string[], write: Write, writeErr: Write): number {
  return run(writeErr, () => {
    const f = parseFlags(argv, { values: RESOLV_VALUES, bools: new Set(['json']) });
    const pod = podOf(f);
    const resolverConfig = lastValue(f, 'node-resolv-conf', '/etc/resolv.conf');
    const clusterDomain = lastValue(f, 'cluster-domain', 'cluster.local');
    const conf = podResolvConf(pod, {
      clusterDns: ips(f, 'cluster-dns'),
      clusterDomain,
      resolverConfig,
      resolverConfigText: resolverConfig === '' ? '' : readText(resolverConfig),
      nodeIPs: ips(f, 'node-ip'),
    });
    const ndots = ndotsOf(conf.options);
    const walks = walksFor(pod, f, conf.searches, ndots, clusterDomain);
    if (f.bools.has('json')) {
      const amplification = walks.map((w) => ({ ...w, advice: amplificationAdvice(w, ndots) }));
      write(`${JSON.stringify({ nameservers: conf.nameservers, searches: conf.searches, options: conf.options, warnings: conf.warnings, amplification }, null, 2)}\n`);
      return 0;
    }
    write(formatResolvConf(conf));
    for (const w of conf.warnings) writeErr(`${w}\n`);
    for (const w of walks) writeErr(`note: ${amplificationAdvice(w, ndots)}\n`);
    return 0;
  });
}

export function hostsCommand(argv: readonly string[], write: Write, writeErr: Write): number {
  return run(writeErr, () => {
    const f = parseFlags(argv, { values: HOSTS_VALUES });
    const pod = podOf(f);
    const clusterDomain = lastValue(f, 'cluster-domain', 'cluster.local');
    const host = podHostname(pod, clusterDomain);
    const given = f.values.has('pod-ip') ? ips(f, 'pod-ip') : pod.podIPs;
    const text = pod.hostNetwork
      ? nodeHostsFile(readText(lastValue(f, 'node-hosts', '/etc/hosts')), pod.hostAliases)
      : managedHostsFile(given, host.hostname, host.domain, pod.hostAliases);
    write(text);
    for (const w of host.warnings) writeErr(`${w}\n`);
    return 0;
  });
}

/**
 * @module pod/hosts-file
 * The /etc/hosts the kubelet writes into a pod (pkg/kubelet/kubelet_pods.go):
 * the managed file (header, localhost and IPv6 lines, one line per pod IP
 * with the hostname and, with a subdomain, the FQDN) or, for a hostNetwork
 * pod, the node's file under its own header; then the HostAliases block.
 */
import type { HostAlias, PodView } from './pod-file.ts';
import { KubeletDnsError } from './resolv-conf.ts';

const MANAGED_HEADER = '# Kubernetes-managed hosts file.\n';
const MANAGED_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';
const HOSTNAME_MAX = 63;

/** IsDNS1123Label: its error texts, joined as the kubelet joins them. */
function dns1123LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > HOSTNAME_MAX) errs.push(`must be no more than ${HOSTNAME_MAX} characters`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) {
    errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  }
  return errs;
}

export interface PodHostname {
  readonly hostname: string;
  /** `<subdomain>.<namespace>.svc.<domain>`, or '' without a subdomain. */
  readonly domain: string;
  readonly warnings: readonly string[];
}

/** GeneratePodHostNameAndDomain: spec.hostname or the pod name, cut to 63 characters; the subdomain's domain. */
export function podHostname(pod: PodView, clusterDomain: string): PodHostname {
  const warnings: string[] = [];
  let hostname = pod.name;
  if (pod.hostname !== '') {
    const errs = dns1123LabelErrors(pod.hostname);
    if (errs.length > 0) throw new KubeletDnsError(`pod Hostname ${JSON.stringify(pod.hostname)} is not a valid DNS label: ${errs.join(';')}`);
    hostname = pod.hostname;
  }
  if (hostname.length > HOSTNAME_MAX) {
    const cut = hostname.slice(0, HOSTNAME_MAX);
    warnings.push(`Error "Hostname for pod was too long, truncated it" podName="${pod.name}" hostnameMaxLen=${HOSTNAME_MAX} truncatedHostname="${cut}"`);
    hostname = cut.replace(/[-.]+$/, '');
    if (hostname === '') throw new KubeletDnsError(`hostname for pod ${JSON.stringify(pod.name)} was invalid: ${JSON.stringify(pod.name)}`);
  }
  let domain = '';
  if (pod.subdomain !== '') {
    const errs = dns1123LabelErrors(pod.subdomain);
    if (errs.length > 0) throw new KubeletDnsError(`pod Subdomain ${JSON.stringify(pod.subdomain)} is not a valid DNS label: ${errs.join(';')}`);
    domain = `${pod.subdomain}.${pod.namespace}.svc.${clusterDomain}`;
  }
  return { hostname, domain, warnings };
}

function hostAliasesBlock(aliases: readonly HostAlias[]): string {
  if (aliases.length === 0) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip}\t${a.hostnames.join('\t')}\n`;
  return out;
}

/** managedHostsFileContent. */
export function managedHostsFile(podIPs: readonly string[], hostname: string, domain: string, aliases: readonly HostAlias[]): string {
  let out = MANAGED_HEADER;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain !== '' ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + hostAliasesBlock(aliases);
}

/** nodeHostsFileContent: a hostNetwork pod sees the node's file. */
export function nodeHostsFile(nodeHostsText: string, aliases: readonly HostAlias[]): string {
  return MANAGED_HEADER_HOST_NETWORK + nodeHostsText + hostAliasesBlock(aliases);
}

/**
 * @module pod/resolv-conf
 * The resolv.conf a pod gets, by the kubelet's rules (pkg/kubelet/network/dns):
 * the node file parsed the kubelet's way, the dnsPolicy (ClusterFirst,
 * ClusterFirstWithHostNet, Default, None; a hostNetwork pod on ClusterFirst
 * falls back to Default; no cluster DNS address falls back to Default), the
 * pod's dnsConfig merged in, then the limits in the kubelet's order, with the
 * kubelet's warning texts. The text is laid out as the container runtime
 * writes it: `search`, then `nameserver` lines, then `options`.
 */
import type { PodDnsOption, PodView } from './pod-file.ts';

/** glibc reads three nameservers; the kubelet keeps the first three. */
export const MAX_NAMESERVERS = 3;
/** Search list limits since ExpandedDNSConfig (GA in Kubernetes 1.28). */
export const MAX_SEARCH_PATHS = 32;
export const MAX_SEARCH_LINE_CHARS = 2048;
/** Longer search entries are dropped (glibc 2.28 aborts on them); DNS1123SubdomainMaxLength. */
export const MAX_SEARCH_ENTRY_CHARS = 253;
const DEFAULT_OPTIONS: readonly string[] = ['ndots:5'];

/** The kubelet refuses to start the pod's sandbox: its message. */
export class KubeletDnsError extends Error {}

export interface NodeResolvConf {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

/**
 * The node file as the kubelet reads it: `nameserver` lines accumulate, the last
 * `search` line wins (entries lose a trailing dot), the last `options` line wins,
 * `#` lines and other keywords (`domain`, `sortlist`) are ignored. A `nameserver`
 * line without an address is an error.
 */
export function parseNodeResolvConf(text: string): NodeResolvConf {
  const nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  const errors: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/).filter((f) => f !== '');
    if (fields.length === 0) continue;
    if (fields[0] === 'nameserver') {
      if (fields.length >= 2) nameservers.push(fields[1]!);
      else errors.push('nameserver list is empty ');
    }
    if (fields[0] === 'search') searches = fields.slice(1).map((s) => (s.endsWith('.') ? s.slice(0, -1) : s));
    if (fields[0] === 'options') options = fields.slice(1);
  }
  if (errors.length === 1) throw new KubeletDnsError(errors[0]!);
  if (errors.length > 1) throw new KubeletDnsError(`[${errors.join(', ')}]`);
  return { nameservers, searches, options };
}

export interface KubeletDnsSettings {
  /** --cluster-dns (empty: none configured). */
  readonly clusterDns: readonly string[];
  /** --cluster-domain ('' for none). */
  readonly clusterDomain: string;
  /** --resolv-conf path ('' means the kubelet's `--resolv-conf=""`). */
  readonly resolverConfig: string;
  /** The text of that file (ignored when resolverConfig is ''). */
  readonly resolverConfigText: string;
  /** The node's IPs (only the `--resolv-conf=""` fallback reads them). */
  readonly nodeIPs: readonly string[];
}

export interface PodResolvConf {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
  /** The kubelet's events and log lines, in order: "Warning REASON message". */
  readonly warnings: readonly string[];
}

function omitDuplicates(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/**
 * Options merged by name, the pod's value winning; a value '' or none gives a bare
 * option. The kubelet builds this in a Go map, so its order varies from one pod
 * start to the next; ours is the stable one: the existing options in place, new
 * ones after them in the pod's order.
 */
export function mergeOptions(existing: readonly string[], pod: readonly PodDnsOption[]): string[] {
  const merged = new Map<string, string>();
  for (const op of existing) {
    const i = op.indexOf(':');
    if (i >= 0) merged.set(op.slice(0, i), op.slice(i + 1));
    else merged.set(op, '');
  }
  for (const op of pod) merged.set(op.name, op.value ?? '');
  return [...merged].map(([name, value]) => (value === '' ? name : `${name}:${value}`));
}

function fitNameservers(list: string[], warnings: string[]): string[] {
  if (list.length <= MAX_NAMESERVERS) return list;
  const kept = list.slice(0, MAX_NAMESERVERS);
  warnings.push(`Warning DNSConfigForming Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${kept.join(' ')}`);
  return kept;
}

/** The kubelet's order: cut to 32 entries, drop entries over 253 characters, then cut from the end to 2048 characters. */
function fitSearches(list: string[], warnings: string[]): string[] {
  let exceeded = false;
  let out = list;
  if (out.length > MAX_SEARCH_PATHS) { out = out.slice(0, MAX_SEARCH_PATHS); exceeded = true; }
  const short = out.filter((s) => s.length <= MAX_SEARCH_ENTRY_CHARS);
  if (short.length !== out.length) exceeded = true;
  out = short;
  const lineLength = out.join(' ').length;
  if (lineLength > MAX_SEARCH_LINE_CHARS) {
    let cutNum = 0;
    let cutLen = 0;
    for (let i = out.length - 1; i >= 0; i--) {
      cutLen += out[i]!.length + 1;
      cutNum++;
      if (lineLength - cutLen <= MAX_SEARCH_LINE_CHARS) break;
    }
    out = out.slice(0, out.length - cutNum);
    exceeded = true;
  }
  if (exceeded) {
    warnings.push(`Warning DNSConfigForming Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${out.join(' ')}`);
  }
  return out;
}

/** The node events the kubelet raises about its --resolv-conf file (CheckLimitsForResolvConf). */
function nodeFileWarnings(s: KubeletDnsSettings, node: NodeResolvConf): string[] {
  const limit = s.clusterDomain !== '' ? MAX_SEARCH_PATHS - 3 : MAX_SEARCH_PATHS;
  const file = s.resolverConfig;
  if (node.searches.length > limit) {
    return [`Warning CheckLimitsForResolvConf Resolv.conf file '${file}' contains search line consisting of more than ${limit} domains!`];
  }
  if (node.searches.some((x) => x.length > MAX_SEARCH_ENTRY_CHARS)) {
    return [`Warning CheckLimitsForResolvConf Resolv.conf file ${JSON.stringify(file)} contains a search path which length is more than allowed ${MAX_SEARCH_ENTRY_CHARS} chars!`];
  }
  if (node.searches.join(' ').length > MAX_SEARCH_LINE_CHARS) {
    return [`Warning CheckLimitsForResolvConf Resolv.conf file '${file}' contains search line which length is more than allowed ${MAX_SEARCH_LINE_CHARS} chars!`];
  }
  return [];
}

type DnsType = 'cluster' | 'host' | 'none';

/** getPodDNSType: the policy the kubelet really applies. */
function dnsTypeOf(pod: PodView, warnings: string[]): DnsType {
  const policy = pod.dnsPolicy === '' ? 'ClusterFirst' : pod.dnsPolicy; // the API server's default
  switch (policy) {
    case 'None': return 'none';
    case 'ClusterFirstWithHostNet': return 'cluster';
    case 'ClusterFirst': return pod.hostNetwork ? 'host' : 'cluster';
    case 'Default': return 'host';
    default:
      warnings.push(`Error "Failed to get DNS type for pod. Falling back to DNSClusterFirst policy." err="invalid DNSPolicy=${policy}" pod="${pod.namespace}/${pod.name}"`);
      return 'cluster';
  }
}

/** GetPodDNS: the pod's nameservers, search list and options, and the warnings raised on the way. */
export function podResolvConf(pod: PodView, s: KubeletDnsSettings): PodResolvConf {
  const warnings: string[] = [];
  let node: NodeResolvConf = { nameservers: [], searches: [], options: [] };
  if (s.resolverConfig !== '') {
    node = parseNodeResolvConf(s.resolverConfigText);
    warnings.push(...nodeFileWarnings(s, node));
  }
  let nameservers = [...node.nameservers];
  let searches = [...node.searches];
  let options = [...node.options];
  let type = dnsTypeOf(pod, warnings);
  if (type === 'none') {
    nameservers = [];
    searches = [];
    options = [];
  } else if (type === 'cluster') {
    if (s.clusterDns.length > 0) {
      nameservers = [...s.clusterDns];
      if (s.clusterDomain !== '') {
        const d = s.clusterDomain;
        searches = omitDuplicates([`${pod.namespace}.svc.${d}`, `svc.${d}`, d, ...searches]);
      }
      options = [...DEFAULT_OPTIONS];
    } else {
      const msg = 'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.';
      warnings.push(`Warning MissingClusterDNS ${msg}`);
      warnings.push(`Warning MissingClusterDNS pod: "${pod.name}_${pod.namespace}(${pod.uid})". ${msg}`);
      type = 'host';
    }
  }
  if (type === 'host' && s.resolverConfig === '') {
    // The kubelet's --resolv-conf="": the node's own resolver, no search.
    for (const ip of s.nodeIPs) nameservers.push(ip.includes(':') ? '::1' : '127.0.0.1');
    if (nameservers.length === 0) nameservers.push('127.0.0.1');
    searches = ['.'];
  }
  if (pod.dnsConfig !== null) {
    nameservers = omitDuplicates([...nameservers, ...pod.dnsConfig.nameservers]);
    searches = omitDuplicates([...searches, ...pod.dnsConfig.searches]);
    options = mergeOptions(options, pod.dnsConfig.options);
  }
  nameservers = fitNameservers(nameservers, warnings);
  searches = fitSearches(searches, warnings);
  return { nameservers, searches, options, warnings };
}

/** The file as the container runtime writes it from the kubelet's DNSConfig (containerd, CRI-O). */
export function formatResolvConf(c: Pick<PodResolvConf, 'nameservers' | 'searches' | 'options'>): string {
  let out = '';
  if (c.searches.length > 0) out += `search ${c.searches.join(' ')}\n`;
  for (const ns of c.nameservers) out += `nameserver ${ns}\n`;
  if (c.options.length > 0) out += `options ${c.options.join(' ')}\n`;
  return out;
}

/** ndots from an options list (glibc: the last one wins; default 1, at most 15). */
export function ndotsOf(options: readonly string[]): number {
  let n = 1;
  for (const o of options) {
    const m = /^ndots:(\d+)$/.exec(o);
    if (m !== null) n = Math.min(15, Number(m[1]));
  }
  return n;
}

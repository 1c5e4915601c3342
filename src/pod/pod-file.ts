/**
 * @module pod/pod-file
 * Reading the pod a command talks about from a YAML or JSON file: a Pod, or a
 * workload whose pod template makes the pods (Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, Job, CronJob, ReplicationController). Only the
 * fields the kubelet reads for a pod's resolv.conf and /etc/hosts are kept.
 * Services in the same file (multi-document YAML, a List) are kept by name:
 * they are the names the pod most likely looks up.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { errorMessage } from '../errors/to-error.ts';

export type DnsPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';

export interface PodDnsOption {
  readonly name: string;
  /** null when the option has no value field (a bare option). */
  readonly value: string | null;
}

export interface PodDnsConfig {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly PodDnsOption[];
}

export interface HostAlias {
  readonly ip: string;
  readonly hostnames: readonly string[];
}

/** What the kubelet reads from a pod to write its resolv.conf and /etc/hosts. */
export interface PodView {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** spec.dnsPolicy as written ('' when unset: the API server defaults it to ClusterFirst). */
  readonly dnsPolicy: string;
  readonly hostNetwork: boolean;
  readonly dnsConfig: PodDnsConfig | null;
  readonly hostname: string;
  readonly subdomain: string;
  readonly hostAliases: readonly HostAlias[];
  /** status.podIPs (else status.podIP); empty for a template. */
  readonly podIPs: readonly string[];
  /** Where it came from: "Pod web" or "Deployment web (pod template)". */
  readonly source: string;
  /** Names of the Services in the same file, with their namespaces. */
  readonly services: readonly { readonly name: string; readonly namespace: string }[];
}

export class PodFileError extends Error {}

type Json = Record<string, unknown>;

const WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController', 'CronJob']);

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new PodFileError(`${field}: want a list of strings`);
  return v as string[];
}

/** Every object of the documents, with List items expanded. */
function objectsOf(text: string, file: string): Json[] {
  const out: Json[] = [];
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length > 0) throw new PodFileError(`${file}: ${doc.errors[0]!.message}`);
    const v = doc.toJS() as unknown;
    if (v === null || v === undefined) continue;
    const o = obj(v);
    if (o.kind === 'List' && Array.isArray(o.items)) out.push(...o.items.map(obj));
    else out.push(o);
  }
  return out;
}

function dnsConfigOf(v: unknown): PodDnsConfig | null {
  if (v === undefined || v === null) return null;
  const c = obj(v);
  const options: PodDnsOption[] = [];
  if (c.options !== undefined && c.options !== null) {
    if (!Array.isArray(c.options)) throw new PodFileError('spec.dnsConfig.options: want a list');
    for (const o of c.options.map(obj)) {
      if (str(o.name) === '') throw new PodFileError('spec.dnsConfig.options: every option needs a name');
      options.push({ name: str(o.name), value: o.value === undefined || o.value === null ? null : String(o.value) });
    }
  }
  return {
    nameservers: strings(c.nameservers, 'spec.dnsConfig.nameservers'),
    searches: strings(c.searches, 'spec.dnsConfig.searches'),
    options,
  };
}

function hostAliasesOf(v: unknown): HostAlias[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PodFileError('spec.hostAliases: want a list');
  return v.map(obj).map((a) => ({ ip: str(a.ip), hostnames: strings(a.hostnames, 'spec.hostAliases[].hostnames') }));
}

/** The pod template of a workload, with the name its pods get (the template's, else the workload's; `-0` for a StatefulSet). */
function templateOf(o: Json): { meta: Json; spec: Json; name: string } {
  const kind = str(o.kind);
  const meta = obj(o.metadata);
  const spec = obj(o.spec);
  const template = kind === 'CronJob' ? obj(obj(obj(spec.jobTemplate).spec).template) : obj(spec.template);
  const tmeta = obj(template.metadata);
  const base = str(tmeta.name) || str(meta.name);
  return {
    meta: { ...tmeta, namespace: str(tmeta.namespace) || str(meta.namespace) },
    spec: obj(template.spec),
    name: kind === 'StatefulSet' ? `${base}-0` : base,
  };
}

/** Reads the first Pod or workload of `file` (YAML or JSON). */
export function readPodFile(file: string): PodView {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PodFileError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(e)}`);
  }
  return podFromText(text, file);
}

export function podFromText(text: string, file: string): PodView {
  const objects = objectsOf(text, file);
  const services = objects.filter((o) => o.kind === 'Service').map((o) => {
    const m = obj(o.metadata);
    return { name: str(m.name), namespace: str(m.namespace) || 'default' };
  });
  const found = objects.find((o) => o.kind === 'Pod' || WORKLOADS.has(str(o.kind)));
  if (found === undefined) throw new PodFileError(`${file}: no Pod or workload with a pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob)`);
  const kind = str(found.kind);
  let meta: Json;
  let spec: Json;
  let name: string;
  let podIPs: string[] = [];
  if (kind === 'Pod') {
    meta = obj(found.metadata);
    spec = obj(found.spec);
    name = str(meta.name);
    const status = obj(found.status);
    podIPs = Array.isArray(status.podIPs) ? status.podIPs.map((p) => str(obj(p).ip)).filter((s) => s !== '') : [];
    if (podIPs.length === 0 && str(status.podIP) !== '') podIPs = [str(status.podIP)];
  } else {
    ({ meta, spec, name } = templateOf(found));
  }
  const namespace = str(meta.namespace) || 'default';
  return {
    name,
    namespace,
    uid: str(meta.uid),
    dnsPolicy: str(spec.dnsPolicy),
    hostNetwork: spec.hostNetwork === true,
    dnsConfig: dnsConfigOf(spec.dnsConfig),
    hostname: str(spec.hostname),
    subdomain: str(spec.subdomain),
    hostAliases: hostAliasesOf(spec.hostAliases),
    podIPs,
    source: kind === 'Pod' ? `Pod ${name}` : `${kind} ${str(obj(found.metadata).name)} (pod template)`,
    services,
  };
}

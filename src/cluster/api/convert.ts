/**
 * @module cluster/api/convert
 * Pure converters from Kubernetes object JSON (V1Namespace, V1Service,
 * discovery/v1 EndpointSlice, V1Pod, as decoded from the API or a manifest)
 * to the slim records of cluster/types. No I/O: the live API reflector and the
 * manifest-folder source both use these. A bad object (missing name, invalid
 * IP, unknown enum value) yields `{ error }` so the caller can report and skip it.
 */

import type {
  ClusterKind,
  ClusterRecord,
  EndpointRecord,
  EndpointSliceRecord,
  NamespaceRecord,
  PodRecord,
  PortRecord,
  Protocol,
  ServiceRecord,
} from '../types.ts';
import { canonicalIp, canonicalIpv4, canonicalIpv6 } from '../../dns/ip.ts';

export type ConvertResult<T extends ClusterRecord = ClusterRecord> =
  | { readonly record: T; readonly error?: undefined }
  | { readonly error: string; readonly record?: undefined };

export interface ConvertOptions {
  /** Namespace for namespaced objects that carry none (manifests); without it such objects are errors. */
  readonly defaultNamespace?: string;
  /**
   * Keep the EndpointSlice annotation endpoints.kubernetes.io/last-change-trigger-time
   * as `triggerTime` (the live API: it feeds the DNS programming latency
   * metric; a manifest's value is history, not a change happening now).
   */
  readonly triggerTime?: boolean;
}

type Json = Record<string, unknown>;

const SERVICE_TYPES: readonly ServiceRecord['type'][] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const ADDRESS_TYPES: readonly EndpointSliceRecord['addressType'][] = ['IPv4', 'IPv6', 'FQDN'];
const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

/** Label on an EndpointSlice naming its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Annotation the EndpointSlice controller sets to the time of the change that caused the slice's update. */
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

/** The trigger-time annotation (RFC 3339) in ms since the epoch; null when absent or unreadable (never an error, as CoreDNS). */
export function triggerTimeOf(meta: unknown): number | null {
  const v = obj(obj(meta).annotations)[TRIGGER_TIME_ANNOTATION];
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Json {
  return isObj(v) ? v : {};
}

function optString(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

class ConvertError extends Error {}

function fail(msg: string): never {
  throw new ConvertError(msg);
}

/** namespace, name and resourceVersion from metadata; name/namespace '' when absent. */
export function objectMeta(o: unknown): { namespace: string; name: string; resourceVersion: string | null } {
  const m = obj(obj(o).metadata);
  return {
    namespace: typeof m.namespace === 'string' ? m.namespace : '',
    name: typeof m.name === 'string' ? m.name : '',
    resourceVersion: optString(m.resourceVersion),
  };
}

/** "Service ns/name" style description for log lines. */
export function describeObject(kind: ClusterKind, o: unknown): string {
  const { namespace, name } = objectMeta(o);
  if (kind === 'Namespace') return `Namespace ${name || '<unnamed>'}`;
  return `${kind} ${namespace || '<no namespace>'}/${name || '<unnamed>'}`;
}

function labelsOf(m: Json): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(m.labels)) return out;
  for (const [k, v] of Object.entries(m.labels)) if (typeof v === 'string') out[k] = v;
  return out;
}

function identity(o: unknown, opts: ConvertOptions | undefined, namespaced: boolean): { namespace: string; name: string; meta: Json } {
  if (!isObj(o)) fail('object is not a JSON object');
  const meta = obj(o.metadata);
  const name = optString(meta.name);
  if (name === null) fail('missing metadata.name');
  if (!namespaced) return { namespace: '', name, meta };
  const namespace = optString(meta.namespace) ?? opts?.defaultNamespace ?? null;
  if (namespace === null) fail('missing metadata.namespace');
  return { namespace, name, meta };
}

function protocolOf(v: unknown): Protocol {
  if (v === undefined || v === null || v === '') return 'tcp';
  const p = typeof v === 'string' ? v.toLowerCase() : '';
  if (!(PROTOCOLS as readonly string[]).includes(p)) fail(`unsupported port protocol ${JSON.stringify(v)}`);
  return p as Protocol;
}

/** Ports; entries without a port number are skipped when `optionalPort` (EndpointSlice "all ports"). */
function portsOf(v: unknown, optionalPort: boolean): PortRecord[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail('ports is not a list');
  const out: PortRecord[] = [];
  for (const raw of v) {
    const p = obj(raw);
    if ((p.port === undefined || p.port === null) && optionalPort) continue;
    const port = p.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      fail(`invalid port ${JSON.stringify(port)}`);
    }
    out.push({ name: typeof p.name === 'string' ? p.name : '', port, protocol: protocolOf(p.protocol) });
  }
  return out;
}

/**
 * The input text itself when it is already canonical (the usual case): a flat string from the
 * JSON decoder, where the canonical form built from the bytes is a concatenated string (up to
 * ~100 bytes for a 13-character IPv4 text instead of ~28). Kept for every address of the store.
 */
function sameOrCanonical(text: string, canonical: string | null): string | null {
  return canonical === text ? text : canonical;
}

function ipOrFail(v: unknown, what: string): string {
  const ip = typeof v === 'string' ? sameOrCanonical(v, canonicalIp(v)) : null;
  if (ip === null) fail(`invalid ${what} ${JSON.stringify(v)}`);
  return ip;
}

function buildNamespace(o: unknown): NamespaceRecord {
  const { name, meta } = identity(o, undefined, false);
  return { kind: 'Namespace', name, labels: labelsOf(meta) };
}

function buildService(o: unknown, opts: ConvertOptions | undefined): ServiceRecord {
  const { namespace, name, meta } = identity(o, opts, true);
  const spec = obj(obj(o).spec);
  const rawType = spec.type ?? 'ClusterIP';
  if (!(SERVICE_TYPES as readonly unknown[]).includes(rawType)) fail(`unsupported service type ${JSON.stringify(rawType)}`);
  const type = rawType as ServiceRecord['type'];
  let externalName: string | null = null;
  let clusterIPs: string[] = [];
  let headless = false;
  if (type === 'ExternalName') {
    const en = optString(spec.externalName);
    if (en === null || /\s/.test(en)) fail(`invalid externalName ${JSON.stringify(spec.externalName)}`);
    externalName = en.toLowerCase().endsWith('.') ? en.toLowerCase() : `${en.toLowerCase()}.`;
  } else {
    const list = Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0 ? spec.clusterIPs : [];
    const raw: unknown[] = list.length > 0 ? list : optString(spec.clusterIP) !== null ? [spec.clusterIP] : [];
    headless = raw[0] === 'None' || spec.clusterIP === 'None';
    if (!headless) clusterIPs = raw.map((ip) => ipOrFail(ip, 'clusterIP'));
  }
  const record: ServiceRecord = {
    kind: 'Service',
    namespace,
    name,
    type,
    clusterIPs,
    headless,
    externalName,
    ports: portsOf(spec.ports, false),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    labels: labelsOf(meta),
  };
  const status = obj(obj(o).status);
  const external = externalIPsOf(spec, status);
  const lb = externalIPsOf({}, status);
  return external.length === 0 ? record : { ...record, externalIPs: external, ...(lb.length > 0 ? { loadBalancerIPs: lb } : {}) };
}

/**
 * spec.externalIPs and the load balancer's ingress IPs. Hostnames and
 * addresses that do not parse are skipped: they must not cost the Service
 * its cluster names.
 */
function externalIPsOf(spec: Record<string, unknown>, status: Record<string, unknown>): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => { const ip = typeof v === 'string' ? sameOrCanonical(v, canonicalIp(v)) : null; if (ip !== null && !out.includes(ip)) out.push(ip); };
  if (Array.isArray(spec.externalIPs)) for (const ip of spec.externalIPs) add(ip);
  const ingress = obj(status.loadBalancer).ingress;
  if (Array.isArray(ingress)) for (const i of ingress) add(obj(i).ip);
  return out;
}

function buildEndpoint(raw: unknown, addressType: EndpointSliceRecord['addressType'], sliceNamespace: string): EndpointRecord {
  const e = obj(raw);
  if (!Array.isArray(e.addresses)) fail('endpoint without addresses');
  const addresses = e.addresses.map((a: unknown) => {
    let text: string | null = null;
    if (typeof a === 'string') {
      if (addressType === 'IPv4') text = sameOrCanonical(a, canonicalIpv4(a));
      else if (addressType === 'IPv6') text = sameOrCanonical(a, canonicalIpv6(a));
      else text = a === '' ? null : a.toLowerCase();
    }
    if (text === null) fail(`invalid ${addressType} endpoint address ${JSON.stringify(a)}`);
    return text;
  });
  const cond = obj(e.conditions);
  const ready = cond.ready !== false;
  const ref = isObj(e.targetRef) ? e.targetRef : null;
  return {
    addresses,
    ready,
    serving: typeof cond.serving === 'boolean' ? cond.serving : ready,
    terminating: cond.terminating === true,
    hostname: optString(e.hostname),
    nodeName: optString(e.nodeName),
    zone: optString(e.zone),
    targetRef:
      ref !== null && optString(ref.name) !== null
        ? {
            kind: typeof ref.kind === 'string' ? ref.kind : '',
            name: ref.name as string,
            namespace: optString(ref.namespace) ?? sliceNamespace,
          }
        : null,
  };
}

function buildEndpointSlice(o: unknown, opts: ConvertOptions | undefined): EndpointSliceRecord {
  const { namespace, name, meta } = identity(o, opts, true);
  const body = obj(o);
  const addressType = body.addressType;
  if (!(ADDRESS_TYPES as readonly unknown[]).includes(addressType)) fail(`unsupported addressType ${JSON.stringify(addressType)}`);
  const at = addressType as EndpointSliceRecord['addressType'];
  const labels = labelsOf(meta);
  const endpoints = body.endpoints === undefined || body.endpoints === null ? [] : body.endpoints;
  if (!Array.isArray(endpoints)) fail('endpoints is not a list');
  return {
    kind: 'EndpointSlice',
    namespace,
    name,
    serviceName: labels[SERVICE_NAME_LABEL] ?? '',
    addressType: at,
    endpoints: endpoints.map((e: unknown) => buildEndpoint(e, at, namespace)),
    ports: portsOf(body.ports, true),
    labels,
    ...(opts?.triggerTime === true ? { triggerTime: triggerTimeOf(meta) } : {}),
  };
}

function buildPod(o: unknown, opts: ConvertOptions | undefined): PodRecord {
  const { namespace, name, meta } = identity(o, opts, true);
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const ip = optString(status.podIP) === null ? null : ipOrFail(status.podIP, 'podIP');
  let ips: string[] = [];
  if (Array.isArray(status.podIPs) && status.podIPs.length > 0) {
    ips = status.podIPs.map((p: unknown) => ipOrFail(obj(p).ip, 'podIPs entry'));
  } else if (ip !== null) {
    ips = [ip];
  }
  return {
    kind: 'Pod',
    namespace,
    name,
    ip,
    ips,
    phase: typeof status.phase === 'string' ? status.phase : '',
    deleting: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    hostname: optString(spec.hostname),
    subdomain: optString(spec.subdomain),
    labels: labelsOf(meta),
    ...(optString(meta.resourceVersion) === null ? {} : { resourceVersion: meta.resourceVersion as string }),
  };
}

function run<T extends ClusterRecord>(kind: ClusterKind, o: unknown, build: () => T): ConvertResult<T> {
  try {
    return { record: build() };
  } catch (err) {
    if (err instanceof ConvertError) return { error: `${describeObject(kind, o)}: ${err.message}` };
    throw err;
  }
}

export function convertNamespace(o: unknown): ConvertResult<NamespaceRecord> {
  return run('Namespace', o, () => buildNamespace(o));
}

export function convertService(o: unknown, opts?: ConvertOptions): ConvertResult<ServiceRecord> {
  return run('Service', o, () => buildService(o, opts));
}

export function convertEndpointSlice(o: unknown, opts?: ConvertOptions): ConvertResult<EndpointSliceRecord> {
  return run('EndpointSlice', o, () => buildEndpointSlice(o, opts));
}

export function convertPod(o: unknown, opts?: ConvertOptions): ConvertResult<PodRecord> {
  return run('Pod', o, () => buildPod(o, opts));
}

/** Converts an object of the given kind. */
export function convertObject(kind: ClusterKind, o: unknown, opts?: ConvertOptions): ConvertResult {
  switch (kind) {
    case 'Namespace':
      return convertNamespace(o);
    case 'Service':
      return convertService(o, opts);
    case 'EndpointSlice':
      return convertEndpointSlice(o, opts);
    case 'Pod':
      return convertPod(o, opts);
  }
}

/**
 * An empty record carrying only a key, to delete an object whose new version
 * cannot be converted (a store deletes by kind and key).
 */
export function placeholderRecord(kind: ClusterKind, namespace: string, name: string): ClusterRecord {
  switch (kind) {
    case 'Namespace':
      return { kind, name, labels: {} };
    case 'Service':
      return {
        kind, namespace, name, type: 'ClusterIP', clusterIPs: [], headless: false,
        externalName: null, ports: [], publishNotReadyAddresses: false, labels: {},
      };
    case 'EndpointSlice':
      return { kind, namespace, name, serviceName: '', addressType: 'IPv4', endpoints: [], ports: [], labels: {} };
    case 'Pod':
      return {
        kind, namespace, name, ip: null, ips: [], phase: '', deleting: false,
        hostname: null, subdomain: null, labels: {},
      };
  }
}

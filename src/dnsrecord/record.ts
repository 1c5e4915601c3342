/**
 * @module dnsrecord/record
 * The DNSRecord resource (dnsrecords.clusterdns.io/v1alpha1) as a slim,
 * validated record, converted from an API object, a manifest, or the seed's
 * JSON form (`kind: DNS`, `apiVersion: v1`, top-level name/host/paths).
 * Validation is the CRD schema's (host a DNS name, paths start with `/`,
 * ports 1-65535) plus what keeps a rendered nginx configuration safe: a
 * path may not hold whitespace, quotes, `;`, `{`, `}` or `$`, so no record
 * can inject nginx directives. The same rules are in deploy/dnsrecord/crd.yaml.
 */
import { canonicalIp } from '../dns/ip.ts';
import { canonicalName } from '../dns/name.ts';

export const DNSRECORD_GROUP = 'clusterdns.io';
export const DNSRECORD_VERSION = 'v1alpha1';
export const DNSRECORD_API_VERSION = `${DNSRECORD_GROUP}/${DNSRECORD_VERSION}`;
export const DNSRECORD_KIND = 'DNSRecord';
/** The seed's record form: kind DNS, apiVersion v1. */
export const SEED_KIND = 'DNS';
export const DEFAULT_NAMESPACE = 'default';

/**
 * A DNS name as the CRD's pattern checks it: RFC 1123 labels, an optional
 * final dot, at most HOST_MAX_LENGTH characters. The CRD patterns are RE2
 * (no lookahead), the same text as these: a test compares them.
 */
export const HOST_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/;
export const HOST_MAX_LENGTH = 254;
/** A URL path prefix nginx can take as a `location` literally. */
export const PATH_PATTERN = /^\/[A-Za-z0-9._~%/+:@,=!*()-]*$/;
/** A Service name (RFC 1035 label). */
export const SERVICE_PATTERN = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Where the host's DNS answer points: a fixed address, or a Service whose load-balancer IPs (else ClusterIPs) are used. */
export type GatewayRef =
  | { readonly address: string }
  | { readonly service: string; readonly namespace: string };

export interface DnsRecordPath {
  /** URL prefix, starting with `/` (default `/<service>/`). */
  readonly path: string;
  /** The backend Service's name and namespace. */
  readonly service: string;
  readonly namespace: string;
  readonly port: number;
  /** A fixed backend address (canonical), or null to use the Service. */
  readonly address: string | null;
  /** Strip the prefix before proxying (default true: `proxy_pass http://B/;`). */
  readonly rewrite: boolean;
}

export interface DnsRecord {
  readonly kind: 'DNSRecord';
  readonly namespace: string;
  readonly name: string;
  /** Canonical host name: lower case, fully qualified ("node1.com."). */
  readonly host: string;
  readonly gateway: GatewayRef | null;
  readonly paths: readonly DnsRecordPath[];
  /** metadata.creationTimestamp in ms, or null (files): the older record wins a host. */
  readonly createdMs: number | null;
  /** Where it was read from ("FILE" or "api"), named in conflict and nginx error messages. */
  readonly origin: string;
  /** Its `Accepted` status condition as last written by the gateway controller (API records), or null. */
  readonly accepted: AcceptedCondition | null;
}

/** The condition saying whether a record owns its host. */
export interface AcceptedCondition {
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

export const ACCEPTED = 'Accepted';

function acceptedOf(status: unknown): AcceptedCondition | null {
  const conditions = isObj(status) && Array.isArray(status.conditions) ? status.conditions : [];
  const c = conditions.find((x: unknown) => isObj(x) && x.type === ACCEPTED) as Json | undefined;
  if (c === undefined || (c.status !== 'True' && c.status !== 'False')) return null;
  return { status: c.status, reason: typeof c.reason === 'string' ? c.reason : '', message: typeof c.message === 'string' ? c.message : '' };
}

export type DnsRecordResult =
  | { readonly record: DnsRecord; readonly error?: undefined }
  | { readonly error: string; readonly record?: undefined };

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "DNSRecord NS/NAME", for messages. */
export function describeDnsRecord(r: Pick<DnsRecord, 'namespace' | 'name'>): string {
  return `DNSRecord ${r.namespace}/${r.name}`;
}

/** Store key: "namespace/name". */
export function dnsRecordKey(r: Pick<DnsRecord, 'namespace' | 'name'>): string {
  return `${r.namespace}/${r.name}`;
}

/** Thrown inside conversion; becomes the `error` of the result. */
class Invalid extends Error {}

function port(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new Invalid(`${where}: port must be a whole number from 1 to 65535, got ${JSON.stringify(v)}`);
  }
  return v;
}

function address(v: unknown, where: string): string {
  const ip = typeof v === 'string' ? canonicalIp(v) : null;
  if (ip === null) throw new Invalid(`${where}: ${JSON.stringify(v)} is not an IP address`);
  return ip;
}

/** `name` or `name.namespace`. */
function serviceRef(v: unknown, namespace: string, where: string): { service: string; namespace: string } {
  if (typeof v !== 'string') throw new Invalid(`${where}: service must be a Service name`);
  const [name, ns, ...rest] = v.split('.');
  if (name === undefined || !SERVICE_PATTERN.test(name) || rest.length > 0 || (ns !== undefined && !SERVICE_PATTERN.test(ns))) {
    throw new Invalid(`${where}: service ${JSON.stringify(v)} is not NAME or NAME.NAMESPACE`);
  }
  return { service: name, namespace: ns ?? namespace };
}

function gateway(v: unknown, namespace: string): GatewayRef | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string') return { address: address(v, 'gateway') };
  if (!isObj(v)) throw new Invalid('gateway must be an address or {service, namespace}');
  if (v.address !== undefined) return { address: address(v.address, 'gateway.address') };
  const ns = typeof v.namespace === 'string' && v.namespace !== '' ? v.namespace : namespace;
  return serviceRef(typeof v.service === 'string' ? `${v.service}.${ns}` : v.service, namespace, 'gateway');
}

function paths(v: unknown, namespace: string): DnsRecordPath[] {
  if (!Array.isArray(v) || v.length === 0) throw new Invalid('paths must be a non-empty list');
  return v.map((p: unknown, i) => {
    const where = `paths[${i}]`;
    if (!isObj(p)) throw new Invalid(`${where}: not an object`);
    const ref = serviceRef(p.service, namespace, where);
    const path = p.path === undefined ? `/${ref.service}/` : p.path;
    if (typeof path !== 'string' || !PATH_PATTERN.test(path)) {
      throw new Invalid(`${where}: path ${JSON.stringify(path)} must start with / and hold only URL path characters`);
    }
    if (p.rewrite !== undefined && typeof p.rewrite !== 'boolean') throw new Invalid(`${where}: rewrite must be true or false`);
    return {
      path, service: ref.service, namespace: ref.namespace, port: port(p.port, where),
      address: p.address === undefined || p.address === null ? null : address(p.address, `${where}.address`),
      rewrite: p.rewrite ?? true,
    };
  });
}

function host(v: unknown): string {
  if (typeof v !== 'string' || v.length > HOST_MAX_LENGTH || !HOST_PATTERN.test(v)) throw new Invalid(`host ${JSON.stringify(v)} is not a DNS name`);
  return canonicalName(v);
}

/**
 * Converts a DNSRecord object (apiVersion clusterdns.io/v1alpha1) or the seed's
 * form (kind DNS, apiVersion v1) into a record; `origin` says where it came from.
 */
export function convertDnsRecord(o: unknown, origin: string, defaultNamespace = DEFAULT_NAMESPACE): DnsRecordResult {
  if (!isObj(o)) return { error: 'DNSRecord: not an object' };
  const seed = o.kind === SEED_KIND;
  const meta = isObj(o.metadata) ? o.metadata : {};
  const name = seed ? o.name : meta.name;
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : defaultNamespace;
  const label = `DNSRecord ${namespace}/${typeof name === 'string' && name !== '' ? name : '<unnamed>'}`;
  try {
    if (typeof name !== 'string' || name === '') throw new Invalid('missing name');
    const spec = seed ? o : isObj(o.spec) ? o.spec : null;
    if (spec === null) throw new Invalid('missing spec');
    const created = typeof meta.creationTimestamp === 'string' ? Date.parse(meta.creationTimestamp) : NaN;
    return {
      record: {
        kind: 'DNSRecord', namespace, name, host: host(spec.host), gateway: gateway(spec.gateway, namespace),
        paths: paths(spec.paths, namespace), createdMs: Number.isFinite(created) ? created : null, origin,
        accepted: seed ? null : acceptedOf(o.status),
      },
    };
  } catch (e) {
    if (e instanceof Invalid) return { error: `${label}: ${e.message}` };
    throw e;
  }
}

/** Whether an object found in a file is one of ours (either form). */
export function isDnsRecordObject(o: Json): boolean {
  return (o.kind === DNSRECORD_KIND && (o.apiVersion === undefined || o.apiVersion === DNSRECORD_API_VERSION))
    || (o.kind === SEED_KIND && (o.apiVersion === undefined || o.apiVersion === 'v1'));
}

/** An empty record with only a key, to delete an object whose new version is invalid. */
export function placeholderDnsRecord(namespace: string, name: string): DnsRecord {
  return { kind: 'DNSRecord', namespace, name, host: '.', gateway: null, paths: [], createdMs: null, origin: '', accepted: null };
}

/** Value equality (a relist or re-read replaces equal records without telling anyone). */
export function sameDnsRecord(a: DnsRecord, b: DnsRecord): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * @module plugins/etcd/service
 * The SkyDNS message a key holds (CoreDNS's msg.Service), parsed and
 * checked once when the key arrives, and the mapping between DNS names and
 * keys: `www.example.com.` under path `/skydns` is `/skydns/com/example/www`.
 * As Go's encoding/json, field names match case-insensitively, unknown
 * fields are ignored and a field of the wrong type rejects the value; on
 * top of that, values no record could carry (a port over 65535, a host that
 * is not a domain name) reject it too, instead of producing a broken answer.
 */
import { canonicalIp } from '../../dns/ip.ts';
import { encodeName } from '../../dns/name.ts';
import { errorMessage } from '../../errors/to-error.ts';

/** What a service's host makes of it (CoreDNS's HostType). */
export const HostKind = { A: 1, AAAA: 28, NAME: 5, TXT: 16 } as const;
export type HostKind = (typeof HostKind)[keyof typeof HostKind];

/** Priority when the value sets none (or 0), as CoreDNS. */
export const DEFAULT_PRIORITY = 10;

/** One key's record, compact: one object of fixed shape per key. */
export class SkyService {
  /** The whole etcd key. */
  readonly key: string;
  /** IP in canonical text, or a domain name (fully qualified, lower case), or ''. */
  readonly host: string;
  readonly kind: HostKind;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
  readonly text: string;
  readonly mail: boolean;
  /** 0: not set. */
  readonly ttl: number;
  readonly targetStrip: number;
  readonly group: string;

  constructor(
    key: string, host: string, kind: HostKind, port: number, priority: number, weight: number,
    text: string, mail: boolean, ttl: number, targetStrip: number, group: string,
  ) {
    this.key = key; this.host = host; this.kind = kind; this.port = port; this.priority = priority; this.weight = weight;
    this.text = text; this.mail = mail; this.ttl = ttl; this.targetStrip = targetStrip; this.group = group;
  }
}

type Fields = Record<string, unknown>;

function intField(f: Fields, name: string, min: number, max: number): number {
  const v = f[name];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`"${name}" is not a whole number: ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new Error(`"${name}" ${v} is out of range ${min}..${max}`);
  return v;
}

function stringField(f: Fields, name: string): string {
  const v = f[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`"${name}" is not a string: ${JSON.stringify(v)}`);
  return v;
}

/** A domain name fully qualified and lower case; throws when no message could carry it. */
function hostName(host: string): string {
  const fq = host.endsWith('.') ? host.toLowerCase() : `${host.toLowerCase()}.`;
  if (fq === '.' || fq.includes('..')) throw new Error(`"host" is neither an IP address nor a domain name: ${JSON.stringify(host)}`);
  try { encodeName(fq); } catch (e) { throw new Error(`"host" ${JSON.stringify(host)}: ${errorMessage(e)}`); }
  return fq;
}

/** Parses a key's value; throws an Error saying what is wrong (the caller logs it with the key). */
export function parseService(key: string, value: Uint8Array): SkyService {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  } catch (e) {
    throw new Error(`not JSON: ${errorMessage(e)}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object');
  const f: Fields = {};
  for (const [k, v] of Object.entries(raw as Fields)) f[k.toLowerCase()] = v;
  const hostText = stringField(f, 'host');
  const text = stringField(f, 'text');
  // One TXT record's rdata is at most 65535 octets: the text plus one length octet per 255.
  const textBytes = Buffer.byteLength(text, 'utf8');
  if (textBytes + Math.ceil(textBytes / 255) > 65535) throw new Error(`"text" is ${textBytes} octets, more than one TXT record holds`);
  const mail = f['mail'];
  if (mail !== undefined && mail !== null && typeof mail !== 'boolean') throw new Error(`"mail" is not true or false: ${JSON.stringify(mail)}`);
  // -1 is the "no port" the kubernetes backend writes; CoreDNS skips such SRV records.
  const port = intField(f, 'port', -1, 65535);
  const priority = intField(f, 'priority', 0, 65535) || DEFAULT_PRIORITY;
  const weight = intField(f, 'weight', 0, 65535);
  const ttl = intField(f, 'ttl', 0, 2 ** 31 - 1);
  const targetStrip = intField(f, 'targetstrip', 0, 127);
  const group = stringField(f, 'group');
  let host = '';
  let kind: HostKind;
  const ip = hostText === '' ? null : canonicalIp(hostText);
  if (ip !== null) {
    host = ip;
    kind = ip.includes(':') ? HostKind.AAAA : HostKind.A;
  } else {
    if (hostText !== '') host = hostName(hostText);
    kind = text === '' ? HostKind.NAME : HostKind.TXT;
  }
  return new SkyService(key, host, kind, port, priority, weight, text, mail === true, ttl, targetStrip, group);
}

/** "/skydns", "skydns/", "/a//b" -> "/skydns", "/a/b": the prefix as CoreDNS's path.Join makes it. */
export function normalizePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  return '/' + parts.join('/');
}

/** Labels of a canonical name, leftmost first ("." -> []). */
export function nameLabels(name: string): string[] {
  if (name === '.') return [];
  return name.slice(0, -1).split('.');
}

/**
 * A key's segments below the prefix, in name order reversed (TLD first):
 * "/skydns/com/example/www" -> ["com", "example", "www"]; a trailing slash
 * is an empty last segment (CoreDNS's zone-apex keys "/skydns/local/skydns/").
 * null when the key is not below the prefix.
 */
export function keySegments(key: string, prefix: string): string[] | null {
  if (!key.startsWith(prefix + '/')) return null;
  return key.slice(prefix.length + 1).split('/');
}

/** The DNS name a key stands for (CoreDNS's msg.Domain, for any prefix depth): "/skydns/com/example/www" -> "www.example.com.". */
export function domainOfKey(key: string, prefix: string): string {
  const segs = keySegments(key, prefix) ?? [];
  const labels = segs.filter((s) => s !== '').reverse();
  return labels.length === 0 ? '.' : `${labels.join('.').toLowerCase()}.`;
}

/** The name with its `n` leftmost labels taken off, or unchanged when it has no more than n (CoreDNS's targetStrip). */
export function stripLabels(name: string, n: number): string {
  if (n <= 0) return name;
  const labels = nameLabels(name);
  if (n >= labels.length) return name;
  return `${labels.slice(n).join('.')}.`;
}

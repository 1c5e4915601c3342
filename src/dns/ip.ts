/**
 * @module dns/ip
 * The one IP address parser and formatter: text <-> bytes, canonical text
 * (RFC 5952), IPv4-mapped unmapping, and reverse (PTR) names.
 *
 * Parsing is strict, as Kubernetes API validation and Go's net.ParseIP are:
 * IPv4 is a dotted quad without leading zeros ("010.0.0.1" is rejected, it
 * would mean octal to some libc), and zone ids ("fe80::1%eth0") are rejected
 * (an address that names a pod, a service or a reverse zone has no zone;
 * callers that read OS text, like the hosts file, strip the zone first with
 * `stripZone`). An IPv4-mapped address ("::ffff:1.2.3.4") is a valid IPv6
 * address and keeps its mixed notation in canonical text, as Go's netip
 * prints it and RFC 5952 section 5 recommends; `unmapIPv4` turns it into the
 * plain IPv4 text when the caller wants the IPv4 client.
 */

/** 4 or 16 bytes of an IP address text (strict, see the module comment), or null. */
export function ipToBytes(text: string): Uint8Array | null {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/** 4, 6, or 0 when the text is not an IP address. */
export function ipFamily(text: string): 0 | 4 | 6 {
  const b = ipToBytes(text);
  return b === null ? 0 : b.length === 4 ? 4 : 6;
}

/**
 * Through ipv4Int's one pass (no split, no regular expression): the API feed
 * parses every Service's and endpoint's address, 200,000 of them at the start
 * of a 100,000-service cluster, and the split/regex form was 6 % of its CPU.
 */
function parseIPv4(s: string): Uint8Array | null {
  const v = ipv4Int(s);
  return v === null ? null : Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function parseIPv6(s: string): Uint8Array | null {
  if (s.includes('%')) return null;
  let tail: Uint8Array | null = null;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (lastColon !== -1 && text.slice(lastColon + 1).includes('.')) {
    tail = parseIPv4(text.slice(lastColon + 1));
    if (!tail) return null;
    // Keep the colon when it is part of '::' so the split below still sees it.
    text = text.endsWith('::' + text.slice(lastColon + 1)) ? text.slice(0, lastColon + 1) : text.slice(0, lastColon);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = hextets(halves[0]!);
  const rest = halves.length === 2 ? hextets(halves[1]!) : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length + (tail ? 4 : 0);
  if (halves.length === 1 ? known !== 16 : known > 14) return null; // '::' stands for at least one zero group
  const out = new Uint8Array(16);
  out.set(head, 0);
  out.set(rest, 16 - rest.length - (tail ? 4 : 0));
  if (tail) out.set(tail, 12);
  return out;
}

/** "a:b:c" -> big-endian bytes of each group, or null when a group is not 1-4 hex digits. */
function hextets(h: string): number[] | null {
  if (h === '') return [];
  const out: number[] = [];
  for (const g of h.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  return out;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run of 2+ groups as "::", ::ffff:a.b.c.d mixed). */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = b[i] === 0;
  if (mapped) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // The longest run of zero groups (length >= 2, the first one on a tie) becomes "::".
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((v) => v.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

/** Canonical text of an IP address, or null when it is not one. */
export function canonicalIp(text: string): string | null {
  // A dotted quad the strict rules accept is its own canonical text: no bytes, no new string.
  if (!text.includes(':')) return ipv4Int(text) === null ? null : text;
  const b = ipToBytes(text);
  return b ? bytesToIp(b) : null;
}

/** Canonical text of an IPv4 address, or null (for fields typed IPv4, like an EndpointSlice's addresses). */
export function canonicalIpv4(text: string): string | null {
  return ipv4Int(text) === null ? null : text;
}

/** Canonical text of an IPv6 address, or null (for fields typed IPv6). */
export function canonicalIpv6(text: string): string | null {
  const b = text.includes(':') ? parseIPv6(text) : null;
  return b ? bytesToIp(b) : null;
}

/** "::ffff:10.0.0.1" -> "10.0.0.1" (what a dual-stack socket reports for an IPv4 peer); any other text unchanged. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf('.') > 0 ? address.slice(7) : address;
}

/** "fe80::1%eth0" -> "fe80::1": for OS-provided text (hosts files, resolv.conf) where a zone may appear. */
export function stripZone(text: string): string {
  const i = text.indexOf('%');
  return i < 0 ? text : text.slice(0, i);
}

/** "10.0.0.1" -> "1.0.0.10.in-addr.arpa."; IPv6 -> 32 reversed nibbles under ip6.arpa. */
export function reverseName(ip: string): string | null {
  const b = ipToBytes(ip);
  if (!b) return null;
  if (b.length === 4) return `${b[3]}.${b[2]}.${b[1]}.${b[0]}.in-addr.arpa.`;
  let s = '';
  for (let i = 15; i >= 0; i--) s += (b[i]! & 0xf).toString(16) + '.' + (b[i]! >> 4).toString(16) + '.';
  return s + 'ip6.arpa.';
}

/** The address a full reverse name stands for, or null when the name is not a complete one. */
export function ipFromReverseName(name: string): string | null {
  if (name.endsWith('.in-addr.arpa.')) {
    const parts = name.slice(0, -'.in-addr.arpa.'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256)) return null;
    return parts.reverse().join('.');
  }
  if (name.endsWith('.ip6.arpa.')) {
    const parts = name.slice(0, -'.ip6.arpa.'.length).split('.');
    if (parts.length !== 32 || !parts.every((p) => /^[0-9a-f]$/.test(p))) return null;
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = (parseInt(parts[31 - 2 * i]!, 16) << 4) | parseInt(parts[30 - 2 * i]!, 16);
    return bytesToIp(b);
  }
  return null;
}

/**
 * Dotted-quad IPv4 text as one 32-bit signed integer (a V8 small integer), or null; the
 * strict rules of the module comment, without allocating (for per-query lookups keyed by address).
 */
export function ipv4Int(s: string): number | null {
  let value = 0;
  let octet = -1;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return null;
      value = (value << 8) | octet;
      octet = -1;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 3 || (digits > 0 && octet === 0)) return null; // too long, or a leading zero
      octet = digits === 0 ? c - 0x30 : octet * 10 + (c - 0x30);
      if (octet > 255) return null;
      digits++;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return (value << 8) | octet;
}

/** "host:port", with an IPv6 host in brackets (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: number | string): string {
  return `${bracketHost(host)}:${port}`;
}

/** An IPv6 address in brackets, anything else as it is (for host:port texts and logs). */
export function bracketHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The metrics/log label of a DNS listener: "dns://:53", "dns://127.0.0.1:53", "dns://[::1]:53". */
export function serverLabel(address: string, port: number): string {
  return `dns://${joinHostPort(address, port)}`;
}

/** A network: its address bytes (4 or 16) and prefix length. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/** "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128); null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const bytes = ipToBytes(slash < 0 ? text : text.slice(0, slash));
  if (bytes === null) return null;
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, bits: max };
  const b = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(b) || Number(b) > max) return null;
  return { bytes, bits: Number(b) };
}

/** Whether the address `ip` (4 or 16 bytes) lies in `net`; IPv4 never matches an IPv6 net or the reverse. */
export function cidrContains(net: Cidr, ip: Uint8Array): boolean {
  if (ip.length !== net.bytes.length) return false;
  const full = net.bits >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== net.bytes[i]) return false;
  const rest = net.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full]! & mask) === (net.bytes[full]! & mask);
}

/**
 * @module dns/ip
 * IP address text <-> bytes, canonical text, and reverse (PTR) names.
 * Uses node:net for validation so every accepted form matches the platform's.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** 4 or 16 bytes of an IP literal, or null when the text is not an IP address. */
export function ipToBytes(text: string): Uint8Array | null {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text)) return null;
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes two hextets first.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const b = tail.split('.').map(Number);
    s = s.slice(0, lastColon + 1) + ((b[0]! << 8) | b[1]!).toString(16) + ':' + ((b[2]! << 8) | b[3]!).toString(16);
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined ? [] : rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? 0 : 8 - h.length - r.length;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...r];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[i * 2] = v >> 8; out[i * 2 + 1] = v & 0xff; });
  return out;
}

/** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // longest run of zero groups (length >= 2) becomes "::"
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

/** Canonical text of an IP literal, or null when it is not one. */
export function canonicalIp(text: string): string | null {
  const b = ipToBytes(text);
  return b ? bytesToIp(b) : null;
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

// Strict parsers (Go's net.ParseIP rules: no leading zeros, no zone ids), for
// addresses that name things: CIDR zones, and cluster records (canonical text).

/** Parses dotted-quad IPv4 text into 4 octets, or null. Leading zeros are rejected (as Go does). */
export function parseIPv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

/** Parses IPv6 text (with `::` and an optional dotted IPv4 tail) into 16 bytes, or null. */
export function parseIPv6(s: string): number[] | null {
  if (s.includes('%')) return null; // zone ids make no sense in a reverse zone
  let tail: number[] = [];
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (lastColon !== -1 && text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    // Keep the colon when it is part of '::' so the split below still sees it.
    text = text.endsWith('::' + text.slice(lastColon + 1)) ? text.slice(0, lastColon + 1) : text.slice(0, lastColon);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      const v = parseInt(g, 16);
      out.push(v >> 8, v & 0xff);
    }
    return out;
  };
  const [first = '', second] = halves;
  const head = groups(first);
  const rest = second !== undefined ? groups(second) : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1) {
    return known === 16 ? [...head, ...tail] : null;
  }
  if (known > 14) return null; // '::' stands for at least one zero group
  return [...head, ...new Array<number>(16 - known).fill(0), ...rest, ...tail];
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

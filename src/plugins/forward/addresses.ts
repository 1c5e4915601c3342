/**
 * @module plugins/forward/addresses
 * Where forward's upstreams come from: `IP`, `IP:PORT`, `[IPv6]:PORT`, the
 * same with `dns://`, DNS over TLS as `tls://IP[:PORT]` (port 853 by
 * default), or a resolv.conf-style file whose `nameserver` lines
 * are read (as CoreDNS does with /etc/resolv.conf). Also which of them are
 * suspicious: a loopback nameserver in a resolv.conf (systemd-resolved's
 * 127.0.0.53, or this server itself) is the classic forwarding loop.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIp } from '../../dns/ip.ts';

export interface UpstreamAddress {
  readonly host: string;
  readonly port: number;
  /** The file it was read from, or null when written in the Corefile. */
  readonly file: string | null;
  /** DNS over TLS (`tls://`). */
  readonly tls: boolean;
}

/** DNS over TLS's port (RFC 7858). */
export const DOT_PORT = 853;

/** Schemes CoreDNS's forward accepts that this server does not speak. */
const UNSUPPORTED_SCHEMES = ['https://', 'grpc://', 'quic://'];

export type AddressParse = { address: UpstreamAddress } | { unsupported: string } | null;

/**
 * Parses one upstream written in the Corefile. Null when it is not an
 * address (it may then be a file); `unsupported` for a known scheme we lack.
 */
export function parseUpstreamAddress(text: string, defaultPort = 53): AddressParse {
  for (const s of UNSUPPORTED_SCHEMES) if (text.startsWith(s)) return { unsupported: s };
  const tls = text.startsWith('tls://');
  const hostPort = tls ? text.slice('tls://'.length) : text.startsWith('dns://') ? text.slice('dns://'.length) : text;
  const hp = splitHostPort(hostPort, tls ? DOT_PORT : defaultPort);
  if (hp === null) return null;
  return { address: { host: hp.host, port: hp.port, file: null, tls } };
}

/** "1.2.3.4", "1.2.3.4:53", "[::1]:53", "::1" -> canonical host and port; null when not an IP (with port). */
export function splitHostPort(text: string, defaultPort = 53): { host: string; port: number } | null {
  let host = text;
  let portText: string | null = null;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2] ?? null;
  } else if (!isIPv6(stripZone(text))) {
    const i = text.lastIndexOf(':');
    if (i > 0) { host = text.slice(0, i); portText = text.slice(i + 1); }
  }
  host = stripZone(host);
  if (!isIPv4(host) && !isIPv6(host)) return null;
  let port = defaultPort;
  if (portText !== null) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  return { host: canonicalIp(host)!, port };
}

function stripZone(s: string): string {
  const i = s.indexOf('%');
  return i < 0 ? s : s.slice(0, i);
}

/**
 * The `nameserver` entries of resolv.conf text, in order. Each is an IP
 * address; as an extension (for tests and odd setups) `IP:PORT` and
 * `[IPv6]:PORT` are accepted too. Other lines and unparsable entries are
 * ignored, as the C library does.
 */
export function nameserversOf(text: string, file: string): UpstreamAddress[] {
  const out: UpstreamAddress[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const f = line.split(/\s+/);
    if (f[0] !== 'nameserver' || f[1] === undefined) continue;
    const hp = splitHostPort(f[1]);
    if (hp) out.push({ host: hp.host, port: hp.port, file, tls: false });
  }
  return out;
}

/** 127.0.0.0/8 or ::1 (or an IPv4-mapped loopback). */
export function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1' || host.startsWith('::ffff:127.');
}

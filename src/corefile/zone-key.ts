/**
 * @module corefile/zone-key
 * Server block keys: `[scheme://]zone[:port]`. Only `dns://` (the default) is
 * served; other CoreDNS transports are rejected. Zones become lower-case FQDNs
 * (`.` for the root, also for an empty zone as in `:53`), and a CIDR zone
 * expands to the reverse zones it covers, one ZoneKey each.
 */

import { CorefileError } from './errors.ts';
import type { SourcePosition } from './errors.ts';
import { reverseZonesOfCidr } from './reverse-zones.ts';
import { errorMessage } from '../errors/to-error.ts';

export interface ZoneKey {
  /** The key as written (after environment substitution), e.g. `dns://example.org:53`. */
  readonly raw: string;
  readonly scheme: 'dns';
  /** Canonical lower-case FQDN with trailing dot; `.` for the root. */
  readonly zone: string;
  /** 0..65535 (0: any free port), or null when the key has no port (the server's default applies). */
  readonly port: number | null;
  readonly file: string;
  readonly line: number;
}

const LABEL = /^[a-z0-9_-]+$/;

/**
 * Canonical form of a domain name used as a zone: lower case, trailing dot.
 * Returns null when `name` is not a usable domain name.
 */
export function normalizeZoneName(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower === '' || lower === '.') return '.';
  const bare = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  if (bare.length > 253) return null;
  for (const label of bare.split('.')) {
    if (label.length === 0 || label.length > 63 || !LABEL.test(label)) return null;
  }
  return bare + '.';
}

function parsePort(text: string, raw: string, at: SourcePosition): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  // 0 asks the kernel for a free port, as in CoreDNS's own tests (`.:0`).
  if (!(port >= 0 && port <= 65535)) {
    throw CorefileError.at(at, `invalid port '${text}' in '${raw}': must be a number from 0 to 65535`);
  }
  return port;
}

/** Parses one server block key; a CIDR zone gives several keys. Throws CorefileError. */
export function parseZoneKey(raw: string, at: SourcePosition): ZoneKey[] {
  let rest = raw;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    const name = (scheme[1] ?? '').toLowerCase();
    if (name !== 'dns') throw CorefileError.at(at, `scheme ${name} is not supported`);
    rest = rest.slice(scheme[0].length);
  }

  // The port follows the last colon, unless that colon is inside an IPv6 CIDR
  // (the '/prefix' always comes before a port).
  let zoneText = rest;
  let port: number | null = null;
  const colon = rest.lastIndexOf(':');
  const slash = rest.indexOf('/');
  if (colon !== -1 && (slash === -1 || colon > slash)) {
    zoneText = rest.slice(0, colon);
    port = parsePort(rest.slice(colon + 1), raw, at);
  }

  let zones: string[];
  if (zoneText.includes('/')) {
    try {
      zones = reverseZonesOfCidr(zoneText);
    } catch (e) {
      throw CorefileError.at(at, `invalid reverse zone in '${raw}': ${errorMessage(e)}`);
    }
  } else {
    const zone = normalizeZoneName(zoneText);
    if (zone === null) throw CorefileError.at(at, `zone '${zoneText}' in '${raw}' is not a valid domain name`);
    zones = [zone];
  }
  return zones.map((zone) => ({ raw, scheme: 'dns', zone, port, file: at.file, line: at.line }));
}

/**
 * @module cluster/api/canonical-ip
 * Canonical text of IP addresses as stored in cluster records: IPv4 as a
 * dotted quad without leading zeros, IPv6 in RFC 5952 form (lower case,
 * leading zeros dropped, the longest run of two or more zero groups
 * compressed to "::", IPv4-mapped addresses as ::ffff:a.b.c.d).
 * Zone suffixes ("%eth0") and anything else are rejected.
 */
import { parseIPv4, parseIPv6 } from '../../dns/ip.ts';

/** Canonical IPv4 text, or null when the text is not a strict dotted quad. */
export function canonicalIPv4(text: string): string | null {
  const octets = parseIPv4(text);
  return octets === null ? null : octets.join('.');
}

/** Canonical IPv6 text, or null when the text is not an IPv6 address. */
export function canonicalIPv6(text: string): string | null {
  const bytes = parseIPv6(text);
  if (bytes === null) return null;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  return formatIPv6(groups);
}

/** Canonical text of an IPv4 or IPv6 address, or null when it is neither. */
export function canonicalIP(text: string): string | null {
  return text.includes(':') ? canonicalIPv6(text) : canonicalIPv4(text);
}

/** 4 or 6 for a valid address text, else 0. */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (text.includes(':')) return parseIPv6(text) === null ? 0 : 6;
  return parseIPv4(text) === null ? 0 : 4;
}

function formatIPv6(g: readonly number[]): string {
  // IPv4-mapped ::ffff:a.b.c.d keeps the mixed notation (RFC 5952 section 5).
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = g;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) {
    return `::ffff:${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((n) => n.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

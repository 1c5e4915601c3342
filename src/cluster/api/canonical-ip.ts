/**
 * @module cluster/api/canonical-ip
 * Canonical text of IP addresses as stored in cluster records: IPv4 as a
 * dotted quad without leading zeros, IPv6 in RFC 5952 form (lower case,
 * leading zeros dropped, the longest run of two or more zero groups
 * compressed to "::", IPv4-mapped addresses as ::ffff:a.b.c.d).
 * Zone suffixes ("%eth0") and anything else are rejected.
 */

/** Canonical IPv4 text, or null when the text is not a strict dotted quad. */
export function canonicalIPv4(text: string): string | null {
  const octets = parseIPv4(text);
  return octets === null ? null : octets.join('.');
}

/** Canonical IPv6 text, or null when the text is not an IPv6 address. */
export function canonicalIPv6(text: string): string | null {
  const groups = parseIPv6(text);
  return groups === null ? null : formatIPv6(groups);
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

function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 text, or null. */
function parseIPv6(text: string): number[] | null {
  if (text.length < 2 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const parsePart = (parts: string[], allowV4Last: boolean): number[] | null => {
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (allowV4Last && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  if (halves.length === 1) {
    const groups = parsePart(head, true);
    return groups !== null && groups.length === 8 ? groups : null;
  }
  const h = parsePart(head, false);
  const t = parsePart(tail, true);
  if (h === null || t === null) return null;
  const missing = 8 - h.length - t.length;
  if (missing < 1) return null;
  return [...h, ...new Array<number>(missing).fill(0), ...t];
}

function formatIPv6(g: number[]): string {
  // IPv4-mapped ::ffff:a.b.c.d keeps the mixed notation (RFC 5952 section 5).
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`;
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

/**
 * @module corefile/reverse-zones
 * Turns a CIDR written as a zone (`10.0.0.0/24`, `1234:abcd::/64`) into the
 * reverse zones it covers. Reverse names only exist on label boundaries (an
 * octet for in-addr.arpa, a nibble for ip6.arpa), so a prefix that is not on
 * one is rounded up and split: `10.0.0.0/17` gives 128 `/24` zones, while
 * `10.0.0.0/8` is just `10.in-addr.arpa.`. Host bits in the address are
 * ignored, as Go's net.ParseCIDR (and so CoreDNS) does. Used for server block
 * keys and by plugins taking zones as arguments (kubernetes).
 */
import { ipToBytes } from '../dns/ip.ts';

/**
 * The reverse zones (lower-case FQDNs) covering `cidr`, in address order.
 * Throws a plain Error with a readable message when `cidr` is not a valid CIDR.
 */
export function reverseZonesOfCidr(cidr: string): string[] {
  const slash = cidr.indexOf('/');
  if (slash === -1) throw new Error(`'${cidr}' is not a CIDR: missing '/prefix'`);
  const addr = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  const parsed = ipToBytes(addr);
  if (!parsed) throw new Error(`'${cidr}' is not a CIDR: '${addr}' is not an IP address`);
  const bytes = Array.from(parsed);
  const v4 = bytes.length === 4;
  const bits = bytes.length * 8;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new Error(`'${cidr}' is not a CIDR: prefix length must be 0..${bits}`);
  }
  const prefix = Number(prefixText);

  // Work in label units: octets for IPv4, nibbles for IPv6.
  const unitBits = v4 ? 8 : 4;
  const units: number[] = v4 ? [...bytes] : bytes.flatMap((b) => [b >> 4, b & 0xf]);
  const suffix = v4 ? 'in-addr.arpa.' : 'ip6.arpa.';
  const count = Math.ceil(prefix / unitBits); // labels in each zone
  const spare = count * unitBits - prefix; // bits rounded up, 0..unitBits-1
  if (count === 0) return [suffix];

  // Clear host bits, so 10.1.2.3/16 means 10.1.0.0/16.
  const masked = units.map((u, k) => {
    const keep = Math.min(Math.max(prefix - k * unitBits, 0), unitBits);
    return u & (((1 << keep) - 1) << (unitBits - keep));
  });
  const label = (v: number): string => (v4 ? String(v) : v.toString(16));
  const fixed = masked.slice(0, count - 1).reverse().map(label).join('.');
  const zones: string[] = [];
  for (let i = 0; i < 1 << spare; i++) {
    const last = label((masked[count - 1] ?? 0) + i);
    zones.push(fixed === '' ? `${last}.${suffix}` : `${last}.${fixed}.${suffix}`);
  }
  return zones;
}

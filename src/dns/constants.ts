/**
 * @module dns/constants
 * DNS numbers used across the server: record types, classes, rcodes, opcodes
 * and header flag bits. Plain consts (no enums) so type stripping keeps them.
 */

export const Type = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33,
  NAPTR: 35, DNAME: 39, OPT: 41, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, NSEC3PARAM: 51,
  TLSA: 52, CDS: 59, CDNSKEY: 60, SVCB: 64, HTTPS: 65, SPF: 99,
  IXFR: 251, AXFR: 252, ANY: 255, CAA: 257,
} as const;

export const Class = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8,
  NOTAUTH: 9, NOTZONE: 10,
  /** Extended rcode 16, carried partly in the OPT record. */
  BADVERS: 16,
} as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

/** Bits of the 16-bit flags word (header bytes 2..3). */
export const Flag = {
  QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, AD: 0x0020, CD: 0x0010,
} as const;

/** DO bit in the OPT record's TTL field (lower 16 bits). */
export const EDNS_DO = 0x8000;

const typeNames = new Map<number, string>(Object.entries(Type).map(([k, v]) => [v, k]));
const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
const classNames = new Map<number, string>(Object.entries(Class).map(([k, v]) => [v, k]));

/** Presentation name of a type: "A", or "TYPE65534" when unknown (RFC 3597). */
export function typeName(t: number): string {
  return typeNames.get(t) ?? `TYPE${t}`;
}
export function className(c: number): string {
  return classNames.get(c) ?? `CLASS${c}`;
}
/** Class number from its name ("IN", "CH", "CLASS42"); undefined when unknown. */
export function classFromName(name: string): number | undefined {
  const u = name.toUpperCase();
  const c = (Class as Record<string, number>)[u];
  if (c !== undefined) return c;
  const m = /^CLASS(\d+)$/.exec(u);
  return m && Number(m[1]) < 65536 ? Number(m[1]) : undefined;
}
export function rcodeName(r: number): string {
  return rcodeNames.get(r) ?? `RCODE${r}`;
}
/** Rcode from its name as miekg/dns spells them ("NXDOMAIN", "SUCCESS" for NOERROR) or a number; undefined when unknown. */
export function rcodeFromName(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name) <= 4095 ? Number(name) : undefined;
  const u = name.toUpperCase();
  return u === 'SUCCESS' ? Rcode.NOERROR : (Rcode as Record<string, number>)[u];
}
/** Type number from its name ("AAAA", "TYPE28"); undefined when unknown. */
export function typeFromName(name: string): number | undefined {
  const u = name.toUpperCase();
  const t = (Type as Record<string, number>)[u];
  if (t !== undefined) return t;
  const m = /^TYPE(\d+)$/.exec(u);
  return m ? Number(m[1]) : undefined;
}

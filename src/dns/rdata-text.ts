/**
 * @module dns/rdata-text
 * Record data in presentation form (the text after the type in a zone-file
 * line) -> wire rdata. One function per layout; any type also takes RFC 3597
 * generic data (`\# LENGTH HEX`). Names in rdata are made absolute against
 * the origin given. Used by the zone-file reader and by `template`.
 */
import { Type } from './constants.ts';
import { ipToBytes } from './ip.ts';
import { encodeName } from './name.ts';
import { errorMessage } from '../errors/to-error.ts';

/** One token of a record line: its text as written (escapes kept) and whether it was quoted. */
export interface RdataToken {
  readonly text: string;
  readonly quoted: boolean;
}

/** Why a record's data could not be read; the zone-file reader adds FILE:LINE. */
export class RdataError extends Error {}

/** Owner/rdata name text -> absolute presentation name: `@` is the origin, a name without a final dot is relative to it. */
export function absoluteName(text: string, origin: string): string {
  if (text === '@') return origin;
  if (endsWithUnescapedDot(text)) return text;
  return origin === '.' ? `${text}.` : `${text}.${origin}`;
}

function endsWithUnescapedDot(s: string): boolean {
  if (!s.endsWith('.')) return false;
  let slashes = 0;
  for (let i = s.length - 2; i >= 0 && s[i] === '\\'; i--) slashes++;
  return slashes % 2 === 0;
}

/** Bytes of a character-string token: \DDD and \X escapes decoded. */
export function characterString(text: string): Uint8Array {
  const raw = Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x5c || i + 1 >= raw.length) { out.push(c); continue; }
    const d = raw.subarray(i + 1, i + 4).toString('latin1');
    if (/^\d{3}$/.test(d)) { out.push(Number(d) & 0xff); i += 3; } else { out.push(raw[i + 1]!); i++; }
  }
  return Uint8Array.from(out);
}

/** A name in rdata, absolute, in wire form. */
function nameData(tokens: readonly RdataToken[], at: number, origin: string): Uint8Array {
  const t = tokens[at];
  if (t === undefined) throw new RdataError('missing domain name');
  try {
    return encodeName(absoluteName(t.text, origin));
  } catch (e) {
    throw new RdataError(errorMessage(e));
  }
}

function uint(tokens: readonly RdataToken[], at: number, bits: 8 | 16 | 32, what: string): number {
  const t = tokens[at]?.text;
  if (t === undefined || !/^\d+$/.test(t)) throw new RdataError(`${what}: '${t ?? ''}' is not a number`);
  const n = Number(t);
  if (n >= 2 ** bits) throw new RdataError(`${what}: ${n} does not fit in ${bits} bits`);
  return n;
}

/** BIND-style TTL/duration: "3600", "1h", "1h30m", "2w" (seconds). */
export function ttlSeconds(text: string): number | null {
  if (/^\d+$/.test(text)) { const n = Number(text); return n <= 0x7fffffff ? n : null; }
  const re = /(\d+)([smhdw])/giy;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0, end = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) { total += Number(m[1]) * unit[m[2]!.toLowerCase()]!; end = re.lastIndex; }
  return end === text.length && end > 0 && total <= 0x7fffffff ? total : null;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

function u16(n: number): Uint8Array { return Uint8Array.of(n >> 8, n & 0xff); }
function u32(n: number): Uint8Array { return Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff); }

function hex(text: string, what: string): Uint8Array {
  if (text === '-') return new Uint8Array(0);
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new RdataError(`${what}: not hexadecimal`);
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

function base64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new RdataError(`${what}: not base64`);
  return Uint8Array.from(Buffer.from(text, 'base64'));
}

function joined(tokens: readonly RdataToken[], from: number): string {
  return tokens.slice(from).map((t) => t.text).join('');
}

function ip(tokens: readonly RdataToken[], len: 4 | 16): Uint8Array {
  const t = tokens[0]?.text ?? '';
  const b = ipToBytes(t);
  if (b === null || b.length !== len || tokens.length !== 1 || t.includes('%')) throw new RdataError(`'${t}' is not an IPv${len === 4 ? 4 : 6} address`);
  return b;
}

/** RRSIG times: YYYYMMDDHHmmSS (UTC) or seconds since the epoch. */
function sigTime(text: string | undefined): number {
  if (text !== undefined && /^\d{14}$/.test(text)) {
    const d = Date.UTC(+text.slice(0, 4), +text.slice(4, 6) - 1, +text.slice(6, 8), +text.slice(8, 10), +text.slice(10, 12), +text.slice(12, 14));
    return (d / 1000) >>> 0;
  }
  if (text !== undefined && /^\d+$/.test(text) && Number(text) < 2 ** 32) return Number(text);
  throw new RdataError(`'${text ?? ''}' is not a signature time`);
}

/** NSEC/NSEC3 type bitmap from type mnemonics. */
function typeBitmap(tokens: readonly RdataToken[], typeOf: (t: string) => number | undefined): Uint8Array {
  const windows = new Map<number, Uint8Array>();
  for (const t of tokens) {
    const n = typeOf(t.text);
    if (n === undefined) throw new RdataError(`unknown type '${t.text}' in type bitmap`);
    const w = n >> 8;
    const bits = windows.get(w) ?? new Uint8Array(32);
    bits[(n & 0xff) >> 3]! |= 0x80 >> (n & 7);
    windows.set(w, bits);
  }
  const parts: Uint8Array[] = [];
  for (const w of [...windows.keys()].sort((a, b) => a - b)) {
    const bits = windows.get(w)!;
    let len = 32;
    while (len > 0 && bits[len - 1] === 0) len--;
    parts.push(Uint8Array.of(w, len), bits.subarray(0, len));
  }
  return concat(parts);
}

const svcKeys: Record<string, number> = { mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6 };

/** SVCB/HTTPS: priority, target, then key=value parameters (RFC 9460), sorted by key on the wire. */
function svcb(tokens: readonly RdataToken[], origin: string): Uint8Array {
  const prio = uint(tokens, 0, 16, 'priority');
  const target = tokens[1]?.text === '.' ? Uint8Array.of(0) : nameData(tokens, 1, origin);
  const params: [number, Uint8Array][] = [];
  for (const t of tokens.slice(2)) {
    const eq = t.text.indexOf('=');
    const key = (eq < 0 ? t.text : t.text.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : t.text.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    const num = svcKeys[key] ?? (/^key\d+$/.test(key) ? Number(key.slice(3)) : undefined);
    if (num === undefined || num > 65535) throw new RdataError(`unknown service parameter '${key}'`);
    let v: Uint8Array;
    switch (num) {
      case 0: v = concat(value.split(',').map((k) => { const n = svcKeys[k] ?? (/^key\d+$/.test(k) ? Number(k.slice(3)) : undefined); if (n === undefined) throw new RdataError(`unknown key '${k}' in mandatory`); return u16(n); })); break;
      case 1: v = concat(value.split(',').map((a) => { const b = characterString(a); return concat([Uint8Array.of(b.length), b]); })); break;
      case 2: v = new Uint8Array(0); break;
      case 3: if (!/^\d+$/.test(value) || Number(value) > 65535) throw new RdataError(`port '${value}' is not a port`); v = u16(Number(value)); break;
      case 4: case 6: v = concat(value.split(',').map((a) => { const b = ipToBytes(a); if (!b || b.length !== (num === 4 ? 4 : 16)) throw new RdataError(`'${a}' is not an IPv${num === 4 ? 4 : 6} address`); return b; })); break;
      case 5: v = base64(value, 'ech'); break;
      default: v = characterString(value);
    }
    params.push([num, v]);
  }
  params.sort((a, b) => a[0] - b[0]);
  return concat([u16(prio), target, ...params.flatMap(([k, v]) => [u16(k), u16(v.length), v])]);
}

/**
 * Wire rdata of a record of `type` from its presentation tokens. `typeOf`
 * reads type mnemonics (NSEC bitmaps, RRSIG's covered type).
 */
export function rdataFromText(type: number, tokens: readonly RdataToken[], origin: string, typeOf: (t: string) => number | undefined): Uint8Array {
  if (tokens[0]?.text === '\\#' && !tokens[0].quoted) {
    const len = uint(tokens, 1, 16, 'generic rdata length');
    const data = hex(joined(tokens, 2), 'generic rdata');
    if (data.length !== len) throw new RdataError(`generic rdata is ${data.length} octets, length says ${len}`);
    return data;
  }
  const need = (n: number): void => { if (tokens.length < n) throw new RdataError(`needs ${n} fields, got ${tokens.length}`); };
  const exactly = (n: number): void => { if (tokens.length !== n) throw new RdataError(`needs ${n} field${n === 1 ? '' : 's'}, got ${tokens.length}`); };
  switch (type) {
    case Type.A: return ip(tokens, 4);
    case Type.AAAA: return ip(tokens, 16);
    case Type.NS: case Type.CNAME: case Type.PTR: case Type.DNAME:
      exactly(1); return nameData(tokens, 0, origin);
    case Type.MX:
      exactly(2); return concat([u16(uint(tokens, 0, 16, 'preference')), nameData(tokens, 1, origin)]);
    case Type.SRV:
      exactly(4);
      return concat([u16(uint(tokens, 0, 16, 'priority')), u16(uint(tokens, 1, 16, 'weight')), u16(uint(tokens, 2, 16, 'port')), nameData(tokens, 3, origin)]);
    case Type.SOA: {
      exactly(7);
      const nums = [2, 3, 4, 5, 6].map((i) => {
        const v = ttlSeconds(tokens[i]!.text);
        if (v === null) throw new RdataError(`SOA field '${tokens[i]!.text}' is not a number`);
        return u32(v);
      });
      return concat([nameData(tokens, 0, origin), nameData(tokens, 1, origin), ...nums]);
    }
    case Type.TXT: case Type.SPF: {
      need(1);
      const parts: Uint8Array[] = [];
      for (const t of tokens) {
        const b = characterString(t.text);
        if (b.length > 255) throw new RdataError('a TXT string is longer than 255 octets');
        parts.push(Uint8Array.of(b.length), b);
      }
      return concat(parts);
    }
    case Type.HINFO: {
      exactly(2);
      return concat(tokens.map((t) => { const b = characterString(t.text); return concat([Uint8Array.of(b.length), b]); }));
    }
    case Type.CAA: {
      exactly(3);
      const tag = Buffer.from(tokens[1]!.text, 'latin1');
      return concat([Uint8Array.of(uint(tokens, 0, 8, 'flags')), Uint8Array.of(tag.length), tag, characterString(tokens[2]!.text)]);
    }
    case Type.DS: case Type.CDS: {
      need(4);
      return concat([u16(uint(tokens, 0, 16, 'key tag')), Uint8Array.of(uint(tokens, 1, 8, 'algorithm'), uint(tokens, 2, 8, 'digest type')), hex(joined(tokens, 3), 'digest')]);
    }
    case Type.DNSKEY: case Type.CDNSKEY: {
      need(4);
      return concat([u16(uint(tokens, 0, 16, 'flags')), Uint8Array.of(uint(tokens, 1, 8, 'protocol'), uint(tokens, 2, 8, 'algorithm')), base64(joined(tokens, 3), 'public key')]);
    }
    case Type.RRSIG: {
      need(9);
      const covered = typeOf(tokens[0]!.text);
      if (covered === undefined) throw new RdataError(`unknown type covered '${tokens[0]!.text}'`);
      return concat([
        u16(covered), Uint8Array.of(uint(tokens, 1, 8, 'algorithm'), uint(tokens, 2, 8, 'labels')), u32(uint(tokens, 3, 32, 'original TTL')),
        u32(sigTime(tokens[4]?.text)), u32(sigTime(tokens[5]?.text)), u16(uint(tokens, 6, 16, 'key tag')), nameData(tokens, 7, origin),
        base64(joined(tokens, 8), 'signature'),
      ]);
    }
    case Type.NSEC:
      need(1); return concat([nameData(tokens, 0, origin), typeBitmap(tokens.slice(1), typeOf)]);
    case Type.NAPTR: {
      exactly(6);
      const str = (i: number): Uint8Array => { const b = characterString(tokens[i]!.text); return concat([Uint8Array.of(b.length), b]); };
      return concat([u16(uint(tokens, 0, 16, 'order')), u16(uint(tokens, 1, 16, 'preference')), str(2), str(3), str(4), nameData(tokens, 5, origin)]);
    }
    case Type.SSHFP:
      need(3); return concat([Uint8Array.of(uint(tokens, 0, 8, 'algorithm'), uint(tokens, 1, 8, 'fingerprint type')), hex(joined(tokens, 2), 'fingerprint')]);
    case Type.TLSA:
      need(4); return concat([Uint8Array.of(uint(tokens, 0, 8, 'usage'), uint(tokens, 1, 8, 'selector'), uint(tokens, 2, 8, 'matching type')), hex(joined(tokens, 3), 'certificate data')]);
    case Type.SVCB: case Type.HTTPS:
      need(2); return svcb(tokens, origin);
    default:
      throw new RdataError('this type is only read in the generic form (\\# LENGTH HEX)');
  }
}

/**
 * @module dns/rr
 * Resource records as the server holds them: owner name, type, class, TTL and
 * rdata already in wire form (names in rdata uncompressed). Plugins build
 * records once (at index or config time) with the helpers here; packing a
 * reply then copies bytes instead of encoding fields.
 */
import { Class, Type } from './constants.ts';
import { encodeName } from './name.ts';
import { ipToBytes } from './ip.ts';

export interface RR {
  /** Canonical owner name (lower case, trailing dot). */
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  /** Wire rdata. */
  readonly data: Uint8Array;
}

export function rr(name: string, type: number, ttl: number, data: Uint8Array, cls: number = Class.IN): RR {
  return { name, type, class: cls, ttl, data };
}

/** Same record with another TTL (records are immutable). */
export function withTtl(r: RR, ttl: number): RR {
  return { name: r.name, type: r.type, class: r.class, ttl, data: r.data };
}

/** Same record under another owner name (wildcard answers, rewritten names). */
export function withName(r: RR, name: string): RR {
  return { name, type: r.type, class: r.class, ttl: r.ttl, data: r.data };
}

function ipData(ip: string, want: 4 | 16): Uint8Array {
  const b = ipToBytes(ip);
  if (!b || b.length !== want) throw new Error(`not an IPv${want === 4 ? 4 : 6} address: ${ip}`);
  return b;
}

export const rdata = {
  a: (ip: string): Uint8Array => ipData(ip, 4),
  aaaa: (ip: string): Uint8Array => ipData(ip, 16),
  name: (target: string): Uint8Array => encodeName(target),
  srv(priority: number, weight: number, port: number, target: string): Uint8Array {
    const t = encodeName(target);
    const out = new Uint8Array(6 + t.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, priority); v.setUint16(2, weight); v.setUint16(4, port);
    out.set(t, 6);
    return out;
  },
  mx(preference: number, exchange: string): Uint8Array {
    const t = encodeName(exchange);
    const out = new Uint8Array(2 + t.length);
    new DataView(out.buffer).setUint16(0, preference);
    out.set(t, 2);
    return out;
  },
  /** TXT from strings; each longer than 255 bytes is split. */
  txt(...texts: string[]): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const t of texts) {
      const b = Buffer.from(t, 'utf8');
      if (b.length === 0) parts.push(new Uint8Array([0]));
      for (let i = 0; i < b.length; i += 255) {
        const chunk = b.subarray(i, i + 255);
        const p = new Uint8Array(chunk.length + 1);
        p[0] = chunk.length; p.set(chunk, 1);
        parts.push(p);
      }
    }
    return Buffer.concat(parts);
  },
  soa(mname: string, rname: string, serial: number, refresh: number, retry: number, expire: number, minimum: number): Uint8Array {
    const m = encodeName(mname), r = encodeName(rname);
    const out = new Uint8Array(m.length + r.length + 20);
    out.set(m, 0); out.set(r, m.length);
    const v = new DataView(out.buffer, m.length + r.length);
    v.setUint32(0, serial >>> 0); v.setUint32(4, refresh); v.setUint32(8, retry); v.setUint32(12, expire); v.setUint32(16, minimum);
    return out;
  },
  hinfo(cpu: string, os: string): Uint8Array {
    return rdata.txt(cpu, os);
  },
};

export const rrs = {
  a: (name: string, ttl: number, ip: string): RR => rr(name, Type.A, ttl, rdata.a(ip)),
  aaaa: (name: string, ttl: number, ip: string): RR => rr(name, Type.AAAA, ttl, rdata.aaaa(ip)),
  /** A or AAAA, by the address family. */
  addr(name: string, ttl: number, ip: string): RR {
    return ip.includes(':') ? rrs.aaaa(name, ttl, ip) : rrs.a(name, ttl, ip);
  },
  cname: (name: string, ttl: number, target: string): RR => rr(name, Type.CNAME, ttl, rdata.name(target)),
  ptr: (name: string, ttl: number, target: string): RR => rr(name, Type.PTR, ttl, rdata.name(target)),
  ns: (name: string, ttl: number, target: string): RR => rr(name, Type.NS, ttl, rdata.name(target)),
  srv: (name: string, ttl: number, prio: number, weight: number, port: number, target: string): RR =>
    rr(name, Type.SRV, ttl, rdata.srv(prio, weight, port, target)),
  txt: (name: string, ttl: number, ...texts: string[]): RR => rr(name, Type.TXT, ttl, rdata.txt(...texts)),
  mx: (name: string, ttl: number, pref: number, exchange: string): RR => rr(name, Type.MX, ttl, rdata.mx(pref, exchange)),
};

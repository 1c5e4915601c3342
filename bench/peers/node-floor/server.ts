/**
 * @module bench/peers/node-floor/server
 * The floor of a DNS server in Node: every answer of the zone files packed
 * once at start, and per query only a Map lookup on the question's bytes, a
 * copy and the ID. No plugin chain, no EDNS, no metrics, no cache. What this
 * server reaches on a UDP path is the most any Node server can reach on it,
 * so clusterdns ÷ this peer is how much of the path clusterdns's own code
 * costs, and this peer ÷ an anchor is what the I/O path alone allows.
 *
 *   node bench/peers/node-floor/server.ts --port P --udp dgram|batch ZONEFILE...
 *
 * The first line of each zone file is expected to be `$ORIGIN name.`, as
 * bench/cluster-gen.ts writes them.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { Flag, Rcode, Type } from '../../../src/dns/constants.ts';
import { encodeName, isSubdomain, parentName } from '../../../src/dns/name.ts';
import { packSections, Reply } from '../../../src/dns/reply.ts';
import type { RR } from '../../../src/dns/rr.ts';
import { parseZone } from '../../../src/dns/zonefile.ts';
import { loadUdpBatch } from '../../../src/server/udp-batch/addon.ts';

interface Args { port: number; udp: 'dgram' | 'batch'; files: string[] }

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { port: 0, udp: 'dgram', files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--port') args.port = Number(argv[++i]);
    else if (a === '--udp') args.udp = argv[++i] === 'batch' ? 'batch' : 'dgram';
    else args.files.push(a);
  }
  if (!(args.port > 0) || args.files.length === 0) throw new Error('usage: server.ts --port P [--udp dgram|batch] ZONEFILE...');
  return args;
}

/** Answers keyed by the question's wire bytes (name lower-cased, type, class) as a latin1 string. */
const answers = new Map<string, Uint8Array>();
/** Per zone: the SOA record as wire bytes (owner uncompressed), for NXDOMAIN and NODATA. */
const zones: { origin: string; soa: Uint8Array }[] = [];
/** Every owner name and empty non-terminal: NODATA rather than NXDOMAIN. */
const names = new Set<string>();

function questionKey(name: string, type: number): string {
  const wire = encodeName(name);
  const q = new Uint8Array(wire.length + 4);
  q.set(wire, 0);
  q[wire.length] = type >> 8; q[wire.length + 1] = type & 0xff;
  q[wire.length + 2] = 0; q[wire.length + 3] = 1;
  return Buffer.from(q).toString('latin1');
}

function load(files: readonly string[]): void {
  const sets = new Map<string, RR[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const origin = /^\$ORIGIN\s+(\S+)/m.exec(text)?.[1] ?? '.';
    const records = parseZone(text, { origin: origin.toLowerCase(), file });
    for (const r of records) {
      const k = `${r.name}\u0000${r.type}`;
      let set = sets.get(k);
      if (set === undefined) sets.set(k, (set = []));
      set.push(r);
      for (let n = r.name; n !== '.' && !names.has(n); n = parentName(n)) names.add(n);
      if (r.type === Type.SOA) {
        const owner = encodeName(r.name);
        const soa = new Uint8Array(owner.length + 10 + r.data.length);
        soa.set(owner, 0);
        let p = owner.length;
        soa[p++] = 0; soa[p++] = Type.SOA; soa[p++] = 0; soa[p++] = 1;
        const ttl = r.ttl >>> 0;
        soa[p++] = ttl >>> 24; soa[p++] = (ttl >> 16) & 0xff; soa[p++] = (ttl >> 8) & 0xff; soa[p++] = ttl & 0xff;
        soa[p++] = r.data.length >> 8; soa[p++] = r.data.length & 0xff;
        soa.set(r.data, p);
        zones.push({ origin: r.name, soa });
      }
    }
  }
  zones.sort((a, b) => b.origin.length - a.origin.length);
  for (const set of sets.values()) {
    const first = set[0]!;
    const packed = packSections(new Reply({ authoritative: true, answer: set }), first.name);
    const key = questionKey(first.name, first.type);
    const msg = new Uint8Array(12 + key.length + packed.body.length);
    msg[2] = (Flag.QR | Flag.AA) >> 8;
    msg[5] = 1;
    msg[6] = packed.an >> 8; msg[7] = packed.an & 0xff;
    msg.set(Buffer.from(key, 'latin1'), 12);
    msg.set(packed.body, 12 + key.length);
    answers.set(key, msg);
  }
}

/** End of the question (after type and class), or -1 for a query this floor does not serve. */
function questionEnd(q: Uint8Array, len: number): number {
  if (len < 17 || (q[2]! & 0x80) !== 0 || q[4] !== 0 || q[5] !== 1) return -1;
  let p = 12;
  while (p < len) {
    const l = q[p]!;
    if (l === 0) return p + 5 <= len ? p + 5 : -1;
    if (l > 63) return -1;
    p += l + 1;
  }
  return -1;
}

/** Lower-cases the question name in place (the reply echoes the client's spelling from its copy). */
function keyOf(q: Buffer, end: number): string {
  return q.toString('latin1', 12, end).toLowerCase();
}

/** Writes the reply to `q` (the query's first `len` bytes) into `out` at `at`; returns its length, or 0. */
function answer(q: Buffer, len: number, out: Uint8Array, at: number): number {
  const end = questionEnd(q, len);
  if (end < 0) return 0;
  const key = keyOf(q, end);
  const hit = answers.get(key);
  const rd = q[2]! & (Flag.RD >> 8);
  if (hit !== undefined) {
    if (at + hit.length > out.length) return 0;
    out.set(hit, at);
    out[at] = q[0]!; out[at + 1] = q[1]!;
    out[at + 2] = hit[2]! | rd;
    q.copy(out, at + 12, 12, end); // the client's case
    return hit.length;
  }
  // Negative: NXDOMAIN or NODATA with the zone's SOA.
  const name = key.slice(0, key.length - 4);
  const text = nameText(name);
  const zone = zones.find((z) => isSubdomain(text, z.origin));
  if (at + end + (zone?.soa.length ?? 0) > out.length) return 0;
  out[at] = q[0]!; out[at + 1] = q[1]!;
  out[at + 2] = (Flag.QR >> 8) | (zone ? Flag.AA >> 8 : 0) | rd;
  out[at + 3] = zone === undefined ? Rcode.REFUSED : names.has(text) ? Rcode.NOERROR : Rcode.NXDOMAIN;
  out[at + 4] = 0; out[at + 5] = 1; out[at + 6] = 0; out[at + 7] = 0;
  out[at + 8] = 0; out[at + 9] = zone ? 1 : 0; out[at + 10] = 0; out[at + 11] = 0;
  q.copy(out, at + 12, 12, end);
  if (zone === undefined) return end;
  out.set(zone.soa, at + end);
  return end + zone.soa.length;
}

/** Wire name (as a latin1 string) → canonical text. */
function nameText(wire: string): string {
  let out = '';
  let p = 0;
  while (p < wire.length) {
    const l = wire.charCodeAt(p);
    if (l === 0) break;
    out += `${wire.slice(p + 1, p + 1 + l)}.`;
    p += l + 1;
  }
  return out === '' ? '.' : out;
}

function serveDgram(port: number): void {
  const sock = createSocket('udp4');
  const out = Buffer.allocUnsafe(65535);
  sock.on('message', (msg, rinfo) => {
    const n = answer(msg, msg.length, out, 0);
    if (n > 0) sock.send(Buffer.from(out.subarray(0, n)), rinfo.port, rinfo.address);
  });
  sock.bind(port, '127.0.0.1', () => console.log(`node-floor: node:dgram on 127.0.0.1:${port}, ${answers.size} answers`));
}

function serveBatch(port: number): void {
  const addon = loadUdpBatch();
  if (addon === null) throw new Error('udp-batch addon not built (npm run build:native)');
  const SLOT = 4096, IN_META = 8, OUT_META = 3;
  const inSlab = Buffer.allocUnsafe(SLOT * addon.BATCH);
  const inMeta = new Int32Array(IN_META * addon.BATCH);
  const outSlab = Buffer.allocUnsafe(addon.BATCH * 1024);
  const outMeta = new Int32Array(OUT_META * addon.BATCH);
  const onBatch = (n: number): number => {
    let replies = 0;
    let used = 0;
    for (let i = 0; i < n; i++) {
      const len = inMeta[i * IN_META]!;
      if (inMeta[i * IN_META + 1] !== 0 || len > SLOT) continue;
      const w = answer(inSlab.subarray(i * SLOT, i * SLOT + len), len, outSlab, used);
      if (w === 0 || used + w > outSlab.length) continue;
      outMeta[replies * OUT_META] = used;
      outMeta[replies * OUT_META + 1] = w;
      outMeta[replies * OUT_META + 2] = i;
      used += w;
      replies++;
    }
    return replies;
  };
  const r = addon.open(4, '127.0.0.1', port, false, inSlab, SLOT, inMeta, outSlab, outMeta, onBatch);
  if (typeof r === 'number') throw new Error(`bind 127.0.0.1:${port} failed: errno ${r}`);
  console.log(`node-floor: batched I/O on 127.0.0.1:${port}, ${answers.size} answers`);
}

const args = parseArgs(process.argv.slice(2));
load(args.files);
if (args.udp === 'batch') serveBatch(args.port);
else serveDgram(args.port);
process.on('SIGTERM', () => process.exit(0));

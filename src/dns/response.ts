/**
 * @module dns/response
 * The writer: turns a Reply into the bytes sent back for one request. It
 * copies the request's question (so the answer echoes the question's case),
 * copies the packed sections, patches ID/flags/TTL age, appends our OPT when
 * the client sent one, and cuts cleanly at a record boundary with TC=1 when
 * the answer does not fit. No re-encoding on this path.
 */
import { EDNS_DO, Flag, Type } from './constants.ts';
import { lastNameEnd, readNameText } from './name.ts';
import type { DnsRequest } from './request.ts';
import type { Reply } from './reply.ts';

const OPT_LENGTH = 11;

export interface WriteOptions {
  /** Our own maximum UDP payload (EDNS bufsize we advertise and honour), default 1232. */
  readonly maxUdpSize: number;
}

/** The size limit for this request's reply: 65535 over TCP; over UDP the client's size, capped by ours. */
export function replyLimit(req: DnsRequest, maxUdpSize: number): number {
  if (req.transport === 'tcp') return 65535;
  if (!req.edns) return 512;
  return req.udpSize < maxUdpSize ? req.udpSize : maxUdpSize;
}

/** Largest reply written into a ReplyScratch; a longer one (a big TCP answer) gets its own buffer. */
const SCRATCH_BYTES = 4096;

/**
 * One reused piece of memory to write replies into, for a responder that is
 * done with a reply's bytes when its send returns (sent at once, or copied).
 * Each reply length gets its own view of that memory, made the first time
 * the length is written and reused after: a reply then costs no allocation.
 * Whoever may keep a reply's bytes longer must not use it.
 */
export class ReplyScratch {
  readonly #memory = new ArrayBuffer(SCRATCH_BYTES);
  /** By length; filled up front so lookups stay on a plain array (a sparse one would turn into a dictionary). */
  readonly #views: (Buffer | undefined)[] = new Array<Buffer | undefined>(SCRATCH_BYTES + 1).fill(undefined);

  /** Whether `buf` is a view of this scratch's memory. */
  holds(buf: Buffer): boolean {
    return buf.buffer === this.#memory;
  }

  /** The scratch view of `length` bytes, or null when that does not fit. */
  view(length: number): Buffer | null {
    if (length > SCRATCH_BYTES) return null;
    let v = this.#views[length];
    if (v === undefined) {
      v = Buffer.from(this.#memory, 0, length);
      this.#views[length] = v;
    }
    return v;
  }
}

/**
 * Writes the reply for `req`. With `scratch`, into its reused memory (valid
 * until the next reply written there); else into a new buffer.
 */
export function writeReply(req: DnsRequest, reply: Reply, opts: WriteOptions, scratch: ReplyScratch | null = null): Buffer {
  const packed = reply.packedFor(req.qname);
  const qEnd = req.questionEnd;
  const options = req.edns ? reply.ednsOptions : null;
  const opt = req.edns ? OPT_LENGTH + (options === null ? 0 : options.length) : 0;
  const limit = replyLimit(req, opts.maxUdpSize);
  let an = packed.an, ns = packed.ns, ar = packed.ar;
  let bodyLen = packed.body.length;
  let tc = 0;
  if (qEnd + bodyLen + opt > limit) {
    // Keep the longest prefix of whole records that fits; TC when answer or authority lost any.
    const room = limit - qEnd - opt;
    const marks = packed.marks;
    const records = marks.length >> 1;
    let kept = 0;
    while (kept < records && marks[2 * kept]! <= room) kept++;
    bodyLen = kept === 0 ? 0 : marks[2 * kept - 2]!;
    if (kept < an + ns) tc = Flag.TC;
    an = Math.min(an, kept);
    ns = Math.min(ns, kept - an);
    ar = kept - an - ns;
  }
  const length = qEnd + bodyLen + opt;
  const out = (scratch === null ? null : scratch.view(length)) ?? Buffer.allocUnsafe(length);
  const rcode = reply.rcode;
  out[0] = req.raw[0]!;
  out[1] = req.raw[1]!;
  const flags = Flag.QR | (req.opcode << 11) | (req.flags & (Flag.RD | Flag.CD)) | reply.flagBits | tc | (rcode & 0xf);
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = 0; out[5] = 1;
  out[6] = an >> 8; out[7] = an & 0xff;
  out[8] = ns >> 8; out[9] = ns & 0xff;
  const arTotal = ar + (opt ? 1 : 0);
  out[10] = arTotal >> 8; out[11] = arTotal & 0xff;
  // The question as asked (its case echoed); a loop, as a subarray would allocate a view per reply.
  const raw = req.raw;
  for (let i = 12; i < qEnd; i++) out[i] = raw[i]!;
  if (bodyLen > 0) {
    const body = packed.body;
    if (bodyLen === body.length) out.set(body, qEnd);
    // Cut (TC): the whole records that fit, copied by a loop, as a subarray would allocate a view per reply.
    else for (let i = 0; i < bodyLen; i++) out[qEnd + i] = body[i]!;
    if (packed.zoneWireLength > 0) {
      // Packed for every name of a zone: point the first owner at the zone's labels, the end of this question name.
      const zoneAt = qEnd - 4 - packed.zoneWireLength;
      out[qEnd] = 0xc0 | (zoneAt >> 8);
      out[qEnd + 1] = zoneAt & 0xff;
    }
    if (reply.ttlAge > 0) ageTtls(out, qEnd, packed.marks, an + ns + ar, reply.ttlAge);
  }
  if (opt) {
    writeOpt(out, qEnd + bodyLen, opts.maxUdpSize, rcode, req.do);
    if (options !== null) {
      const at = qEnd + bodyLen;
      out[at + 9] = options.length >> 8; out[at + 10] = options.length & 0xff;
      out.set(options, at + OPT_LENGTH);
    }
  }
  return out;
}

function ageTtls(out: Buffer, base: number, marks: readonly number[], count: number, age: number): void {
  // Byte arithmetic, not read/writeUInt32BE: this runs for every cached answer served.
  for (let i = 0; i < count; i++) {
    const at = base + marks[2 * i + 1]!;
    if (out[at - 4] === 0 && out[at - 3] === Type.OPT) continue;
    const ttl = ((out[at]! << 24) | (out[at + 1]! << 16) | (out[at + 2]! << 8) | out[at + 3]!) >>> 0;
    const aged = ttl > age ? ttl - age : 0;
    out[at] = aged >>> 24; out[at + 1] = (aged >>> 16) & 0xff; out[at + 2] = (aged >>> 8) & 0xff; out[at + 3] = aged & 0xff;
  }
}

function writeOpt(out: Buffer, at: number, udpSize: number, rcode: number, dnssecOk: boolean): void {
  out[at] = 0; // root owner
  out[at + 1] = 0; out[at + 2] = Type.OPT;
  out[at + 3] = udpSize >> 8; out[at + 4] = udpSize & 0xff;
  out[at + 5] = rcode >> 4; // extended rcode, upper 8 bits
  out[at + 6] = 0; // version
  out[at + 7] = dnssecOk ? EDNS_DO >> 8 : 0; out[at + 8] = 0;
  out[at + 9] = 0; out[at + 10] = 0; // no options
}

/**
 * A reply for a packet that never became a request (FORMERR, NOTIMP,
 * BADVERS): the header echoed with the rcode, the question when it can be
 * read, and an OPT when asked (always for BADVERS, which lives in it).
 */
export function writeErrorReply(msg: Uint8Array, rcode: number, withOpt: boolean, maxUdpSize: number): Buffer {
  let qEnd = 12;
  if (((msg[4]! << 8) | msg[5]!) === 1 && readNameText(msg, 12) !== '') {
    const end = lastNameEnd();
    if (end + 4 <= msg.length) qEnd = end + 4;
  }
  const opt = withOpt || rcode > 15 ? OPT_LENGTH : 0;
  const out = Buffer.alloc(qEnd + opt);
  out[0] = msg[0]!; out[1] = msg[1]!;
  const flags = Flag.QR | (msg[2]! & 0x78) << 8 | (((msg[2]! << 8) | msg[3]!) & Flag.RD) | (rcode & 0xf);
  out[2] = flags >> 8; out[3] = flags & 0xff;
  out[5] = qEnd > 12 ? 1 : 0;
  out[11] = opt ? 1 : 0;
  if (qEnd > 12) out.set(msg.subarray(12, qEnd), 12);
  if (opt) writeOpt(out, qEnd, maxUdpSize, rcode, false);
  return out;
}

/**
 * @module plugins/forward/wire
 * The bytes forward sends and accepts: the client's query re-identified
 * with a fresh random ID (and EDNS0 added when the client sent none, so
 * upstreams answer up to 1232 bytes over UDP instead of truncating at 512),
 * and the check that a reply really answers that query (ID, QR and the
 * question, name compared case-insensitively) so spoofed or stray packets
 * are dropped, not trusted.
 */
import { randomInt } from 'node:crypto';
import { Type } from '../../dns/constants.ts';
import type { DnsRequest } from '../../dns/request.ts';

/** UDP payload size we offer upstreams when the client did not use EDNS. */
export const UPSTREAM_UDP_SIZE = 1232;

const OPT_LENGTH = 11;

/** A query as sent to one upstream: its bytes and where its question ends (for matching replies). */
export interface UpstreamQuery {
  readonly bytes: Buffer;
  readonly questionEnd: number;
}

/** A random 16-bit message ID from the CSPRNG (guessable IDs make cache poisoning easy). */
export function randomId(): number {
  return randomInt(0x10000);
}

/**
 * The client's query with `id`. A plain query (question only, no EDNS) gets
 * an OPT record; anything else (EDNS options, odd extra records) is sent as
 * the client wrote it.
 */
export function upstreamQuery(req: DnsRequest, id: number): UpstreamQuery {
  const raw = req.raw;
  const plain = !req.edns && raw[6] === 0 && raw[7] === 0 && raw[8] === 0 && raw[9] === 0 && raw[10] === 0 && raw[11] === 0;
  const keep = plain ? req.questionEnd : raw.length;
  const out = Buffer.allocUnsafe(keep + (plain ? OPT_LENGTH : 0));
  out.set(raw.subarray(0, keep), 0);
  out[0] = id >> 8;
  out[1] = id & 0xff;
  if (plain) {
    const at = keep;
    out[at] = 0; // root owner
    out.writeUInt16BE(Type.OPT, at + 1);
    out.writeUInt16BE(UPSTREAM_UDP_SIZE, at + 3);
    out.writeUInt32BE(0, at + 5); // extended rcode, version, flags (DO stays off)
    out.writeUInt16BE(0, at + 9);
    out.writeUInt16BE(1, 10);
  }
  return { bytes: out, questionEnd: req.questionEnd };
}

/** Puts another ID into a query (TCP connections need IDs unique among their in-flight queries). */
export function setId(query: Buffer, id: number): void {
  query[0] = id >> 8;
  query[1] = id & 0xff;
}

export function idOf(msg: Uint8Array): number {
  return (msg[0]! << 8) | msg[1]!;
}

/**
 * Whether `reply` answers `query`: same ID, QR set, exactly one question,
 * the same name (ASCII case-insensitive: servers may change case) and the
 * same type and class. Allocation-free.
 */
export function answersQuery(query: Uint8Array, questionEnd: number, reply: Uint8Array): boolean {
  if (reply.length < questionEnd) return false;
  if (reply[0] !== query[0] || reply[1] !== query[1]) return false;
  if ((reply[2]! & 0x80) === 0) return false;
  if (reply[4] !== 0 || reply[5] !== 1) return false;
  const typeAt = questionEnd - 4;
  for (let i = 12; i < typeAt; i++) {
    let a = query[i]!, b = reply[i]!;
    if (a >= 0x41 && a <= 0x5a) a |= 0x20;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (a !== b) return false;
  }
  for (let i = typeAt; i < questionEnd; i++) if (query[i] !== reply[i]) return false;
  return true;
}

/** Whether a reply has TC set. */
export function isTruncated(reply: Uint8Array): boolean {
  return (reply[2]! & 0x02) !== 0;
}

/** Failures talking to an upstream; `code` is stable for tests and logs. */
export class UpstreamError extends Error {
  /** ETIMEDOUT (no matching reply in time), ECONNREFUSED, ECLOSED (pooled connection closed), EBADREPLY, or a socket error code. */
  readonly code: string;
  /** The upstream, "127.0.0.1:53". */
  readonly upstream: string;

  constructor(code: string, upstream: string, message: string) {
    super(message);
    this.name = 'UpstreamError';
    this.code = code;
    this.upstream = upstream;
  }

  static from(e: unknown, upstream: string, proto: string): UpstreamError {
    if (e instanceof UpstreamError) return e;
    const err = e as NodeJS.ErrnoException;
    const code = err.code ?? 'EIO';
    return new UpstreamError(code, upstream, `${proto} ${upstream}: ${err.message}`);
  }
}

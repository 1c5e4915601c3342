/**
 * @module dns/tcp-frame
 * DNS over TCP carries each message behind a two-byte length (RFC 1035
 * 4.2.2). Shared by the server's TCP listener and forward's TCP pool.
 */

/** End offset of the length-prefixed message starting at `off`, or -1 while it has not fully arrived. */
export function frameEnd(buf: Uint8Array, off: number): number {
  if (buf.length - off < 2) return -1;
  const end = off + 2 + ((buf[off]! << 8) | buf[off + 1]!);
  return end <= buf.length ? end : -1;
}

/**
 * @module metrics/udp-drops
 * Datagrams the kernel dropped on this process's listening UDP sockets
 * (receive buffer full: the event loop did not read fast enough), from the
 * `drops` column of /proc/net/udp and /proc/net/udp6. A socket is ours when
 * its inode is one of /proc/self/fd's `socket:[N]` links; a listening one has
 * no remote address (forward's connected client sockets are left out). Linux
 * only; elsewhere, or when /proc cannot be read, there are no samples.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { bytesToIp, joinHostPort } from '../dns/ip.ts';

export interface UdpSocketDrops {
  /** "127.0.0.1:53", "[::]:53". */
  readonly listener: string;
  readonly drops: number;
}

function ownSocketInodes(): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target.startsWith('socket:[')) out.add(target.slice(8, -1));
  }
  return out;
}

/** The address bytes of a /proc/net/udp* hex field: each 32-bit word is in host (little-endian) order. */
function hexAddressBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    for (let b = 0; b < 4; b++) out[w * 4 + b] = Number.parseInt(hex.slice(w * 8 + (3 - b) * 2, w * 8 + (3 - b) * 2 + 2), 16);
  }
  return out;
}

/** Parses one /proc/net/udp* table: the listening sockets among `inodes`, with their drop counts. */
export function parseProcNetUdp(text: string, inodes: ReadonlySet<string>): UdpSocketDrops[] {
  const out: UdpSocketDrops[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [local, remote, inode, drops] = [f[1]!, f[2]!, f[9]!, f[12]!];
    if (!inodes.has(inode) || !/^0+:0000$/.test(remote)) continue;
    const [addr, port] = local.split(':') as [string, string];
    out.push({ listener: joinHostPort(bytesToIp(hexAddressBytes(addr)), Number.parseInt(port, 16)), drops: Number(drops) });
  }
  return out;
}

/** Drop counts of this process's listening UDP sockets now (empty where /proc is not there). */
export function udpSocketDrops(): UdpSocketDrops[] {
  let inodes: Set<string>;
  try { inodes = ownSocketInodes(); } catch { return []; }
  const out: UdpSocketDrops[] = [];
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try { text = readFileSync(table, 'utf8'); } catch { continue; }
    out.push(...parseProcNetUdp(text, inodes));
  }
  return out;
}

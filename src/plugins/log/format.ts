/**
 * @module plugins/log/format
 * CoreDNS's query-log placeholders, compiled once per format into a list of
 * field readers so a log line is a join, not a template parse.
 */
import { className, Flag, rcodeName, typeName } from '../../dns/constants.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Reply } from '../../dns/reply.ts';

export const COMMON_FORMAT = '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}';
export const COMBINED_FORMAT = `${COMMON_FORMAT} "{>opcode}"`;

export interface LogEntry {
  readonly req: DnsRequest;
  readonly reply: Reply;
  readonly size: number;
  readonly durationMs: number;
}

type Field = (e: LogEntry) => string;

function rflags(e: LogEntry): string {
  const f: string[] = ['qr'];
  if (e.reply.authoritative) f.push('aa');
  if (e.req.flags & Flag.RD) f.push('rd');
  if (e.reply.recursionAvailable) f.push('ra');
  return f.join(',');
}

/** Go's Duration.Seconds() as CoreDNS prints it: "0.000123456s". */
export function formatSeconds(ms: number): string {
  const s = (ms / 1000).toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return `${s}s`;
}

const fields: Record<string, Field> = {
  remote: (e) => e.req.remoteAddress.includes(':') ? `[${e.req.remoteAddress}]` : e.req.remoteAddress,
  port: (e) => String(e.req.remotePort),
  local: (e) => e.req.localAddress,
  '>id': (e) => String(e.req.id),
  type: (e) => typeName(e.req.qtype),
  class: (e) => className(e.req.qclass),
  name: (e) => e.req.qname,
  proto: (e) => e.req.transport,
  size: (e) => String(e.req.raw.length),
  '>do': (e) => String(e.req.do),
  '>bufsize': (e) => String(e.req.udpSize),
  rcode: (e) => rcodeName(e.reply.rcode),
  '>rflags': rflags,
  rsize: (e) => String(e.size),
  duration: (e) => formatSeconds(e.durationMs),
  '>opcode': (e) => String(e.req.opcode === 0 ? 'QUERY' : e.req.opcode),
};

/** Compile a format ("{common}", "{combined}" or placeholders) into one function. */
export function compileFormat(format: string): (e: LogEntry) => string {
  const expanded = format.replaceAll('{common}', COMMON_FORMAT).replaceAll('{combined}', COMBINED_FORMAT);
  const parts: (string | Field)[] = [];
  const re = /\{([^{}]+)\}/g;
  let last = 0;
  for (let m = re.exec(expanded); m !== null; m = re.exec(expanded)) {
    if (m.index > last) parts.push(expanded.slice(last, m.index));
    const f = fields[m[1]!];
    parts.push(f ?? '-');
    last = re.lastIndex;
  }
  if (last < expanded.length) parts.push(expanded.slice(last));
  return (e) => {
    let s = '';
    for (const p of parts) s += typeof p === 'string' ? p : p(e);
    return s;
  };
}

/**
 * @module plugins/log/format
 * CoreDNS's query-log placeholders, compiled once per format into a list of
 * literal strings and field readers, so a log line is a join, not a template
 * parse. Follows CoreDNS's replacer: unknown `{x}` stays as written, metadata
 * `{/label}` prints the value the *metadata* plugin collected, or `-`; header
 * fields are numbers.
 */
import { bracketHost } from '../../dns/ip.ts';
import { className, Flag, rcodeName, typeName } from '../../dns/constants.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Reply } from '../../dns/reply.ts';
import { metadataOrNull } from '../../plugin/metadata.ts';

export const COMMON_FORMAT = '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}';
export const COMBINED_FORMAT = `${COMMON_FORMAT} "{>opcode}"`;

export interface LogEntry {
  readonly req: DnsRequest;
  readonly reply: Reply;
  /** Size of the reply as written. */
  readonly size: number;
  /** The reply as written (its header carries the flags, TC included). */
  readonly packet: Uint8Array;
  readonly durationMs: number;
}

type Field = (e: LogEntry) => string;

/** Rcode names as CoreDNS (miekg/dns) prints them; others print as numbers. */
const extraRcodes = new Map<number, string>([[6, 'YXDOMAIN'], [7, 'YXRRSET'], [8, 'NXRRSET'], [9, 'NOTAUTH'], [10, 'NOTZONE']]);

export function rcodeText(rcode: number): string {
  const n = rcodeName(rcode);
  if (!n.startsWith('RCODE')) return n;
  return extraRcodes.get(rcode) ?? String(rcode);
}

/** Header flags of a written message: "qr,aa,tc,rd,ra,z,ad,cd" (those set). */
export function flagsText(packet: Uint8Array): string {
  const f = (packet[2]! << 8) | packet[3]!;
  let s = '';
  if (f & Flag.QR) s += ',qr';
  if (f & Flag.AA) s += ',aa';
  if (f & Flag.TC) s += ',tc';
  if (f & Flag.RD) s += ',rd';
  if (f & Flag.RA) s += ',ra';
  if (f & 0x0040) s += ',z';
  if (f & Flag.AD) s += ',ad';
  if (f & Flag.CD) s += ',cd';
  return s.slice(1);
}

/** Seconds as Go's strconv.FormatFloat(d.Seconds(), 'f', -1, 64) prints a nanosecond Duration: "0.000123456s". */
export function formatSeconds(ms: number): string {
  const s = (ms / 1000).toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return `${s}s`;
}


/** The EDNS size CoreDNS reports: 65535 over TCP, else the client's (at least 512). */
export function bufsizeOf(req: DnsRequest): number {
  return req.transport === 'tcp' ? 65535 : req.udpSize;
}

const fields: Record<string, Field> = {
  remote: (e) => bracketHost(e.req.remoteAddress),
  port: (e) => String(e.req.remotePort),
  local: (e) => bracketHost(e.req.localAddress),
  '>id': (e) => String(e.req.id),
  '>opcode': (e) => String(e.req.opcode),
  '>do': (e) => String(e.req.do),
  '>bufsize': (e) => String(bufsizeOf(e.req)),
  type: (e) => typeName(e.req.qtype),
  class: (e) => className(e.req.qclass),
  name: (e) => e.req.qname,
  proto: (e) => e.req.transport,
  size: (e) => String(e.req.raw.length),
  rcode: (e) => rcodeText(e.reply.rcode),
  '>rflags': (e) => flagsText(e.packet),
  rsize: (e) => String(e.size),
  duration: (e) => formatSeconds(e.durationMs),
};

/** `{/plugin/label}`: the request's metadata value (with the *metadata* plugin), '-' when none. */
function metadataField(label: string): Field {
  return (e) => metadataOrNull(e.req, label) ?? '-';
}

/** Compile a format ("{common}", "{combined}" or placeholders) into one function. */
export function compileFormat(format: string): (e: LogEntry) => string {
  const expanded = format.replaceAll('{common}', COMMON_FORMAT).replaceAll('{combined}', COMBINED_FORMAT);
  const parts: (string | Field)[] = [];
  let literal = '';
  let rest = expanded;
  for (;;) {
    // Like CoreDNS: find a '}', then the last '{' before it ("{ {type} }" works).
    const close = rest.indexOf('}');
    if (close < 0) break;
    const open = rest.lastIndexOf('{', close);
    const label = open < 0 ? '' : rest.slice(open + 1, close);
    const field = open < 0 ? undefined : label.startsWith('/') ? metadataField(label.slice(1)) : fields[label];
    if (field === undefined) {
      literal += rest.slice(0, close + 1);
    } else {
      literal += rest.slice(0, open);
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(field);
    }
    rest = rest.slice(close + 1);
  }
  literal += rest;
  if (literal !== '') parts.push(literal);
  return (e) => {
    let s = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      s += typeof p === 'string' ? p : p(e);
    }
    return s;
  };
}

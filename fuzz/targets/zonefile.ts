/**
 * @module fuzz/targets/zonefile
 * Fuzz target for the zone-file parser (the file plugin, template records):
 * any bytes give records or a ZoneFileError `FILE:LINE: what` at a line of
 * the file (or of the $INCLUDEd one); never another exception. The records
 * it returns are written as an answer and decoded back unchanged (the
 * writer and the decoder agree on every rdata the parser can produce).
 */
import assert from 'node:assert/strict';
import { Type } from '../../src/dns/constants.ts';
import { decodeMessage, encodeQuery } from '../../src/dns/message.ts';
import { Reply } from '../../src/dns/reply.ts';
import { DnsRequest, parseQuery, type ParsedQuestion } from '../../src/dns/request.ts';
import { writeReply } from '../../src/dns/response.ts';
import { parseZone, ZoneFileError } from '../../src/dns/zonefile.ts';
import type { RR } from '../../src/dns/rr.ts';

const FILE = 'db.example.org';
const INCLUDED = 'included.zone';
const includedText = '$TTL 60\nwww IN A 192.0.2.1\n@ IN TXT "included"\n';
const query = encodeQuery('example.org.', 255);
const request = new DnsRequest(query, parseQuery(query) as ParsedQuestion, 'tcp', '127.0.0.1', 5353, '127.0.0.1', 53, 0);

function lineCount(text: string): number {
  return text.split('\n').length;
}

export function fuzz(data: Buffer): void {
  const text = data.toString('utf8');
  let records: RR[];
  try {
    records = parseZone(text, { origin: 'example.org.', file: FILE, include: () => ({ text: includedText, file: INCLUDED }) });
  } catch (e) {
    if (!(e instanceof ZoneFileError)) throw e;
    const lines = e.file === FILE ? lineCount(text) : e.file === INCLUDED ? lineCount(includedText) : 0;
    assert.ok(e.line >= 1 && e.line <= lines, `error at ${e.file}:${e.line}, outside the file: ${e.message}`);
    assert.ok(e.message.startsWith(`${e.file}:${e.line}: `), e.message);
    return;
  }
  if (records.length === 0) return;
  const back = decodeMessage(writeReply(request, new Reply({ authoritative: true, answer: records }), { maxUdpSize: 1232 }));
  // Over TCP only what does not fit in 64 KiB is left out, whole records at a time.
  assert.ok(back.answer.length > 0 || records.length > 0 && records[0]!.data.length > 60000);
  assert.deepEqual(back.answer.map(plainRecord), records.slice(0, back.answer.length).map(plainRecord));
}

/** Types whose rdata holds names: decodeMessage hands those names back in lower case (DNS names ignore case). */
const NAME_TYPES: ReadonlySet<number> = new Set([Type.CNAME, Type.PTR, Type.NS, Type.MX, Type.SRV, Type.SOA]);

function plainRecord(r: RR): { name: string; type: number; class: number; ttl: number; data: string } {
  const data = Buffer.from(r.data).toString('latin1');
  return { name: r.name, type: r.type, class: r.class, ttl: r.ttl, data: NAME_TYPES.has(r.type) ? data.toLowerCase() : data };
}

/**
 * @module fuzz/targets/dns-packet
 * Fuzz target for the packet parser and writer. Any bytes, as a query:
 * parseQuery never throws; a packet it rejects gets an error reply that
 * decodes; one it accepts gets a reply (over UDP and TCP) that fits the
 * size limit, decodes, echoes the ID and question, and is never taken for a
 * query itself. The same bytes as an upstream's answer (forward's path):
 * decodeMessage either decodes them or throws NameError, and what it
 * decodes can be written back and decoded to the same records.
 */
import assert from 'node:assert/strict';
import { Rcode, Type } from '../../src/dns/constants.ts';
import { decodeMessage, replyFromMessage, type DecodedMessage } from '../../src/dns/message.ts';
import { isSubdomain, NameError, parentName } from '../../src/dns/name.ts';
import { Reply } from '../../src/dns/reply.ts';
import { DnsRequest, hasSingleOpt, ParseOutcome, parseQuery, type ParsedQuestion, type Transport } from '../../src/dns/request.ts';
import { replyLimit, writeErrorReply, writeReply } from '../../src/dns/response.ts';
import { rr, rrs, rdata } from '../../src/dns/rr.ts';

const MAX_UDP = 1232;
const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];

/** `label` under `name` (the root's child is "label."), or a fixed name when that would be over 255 octets. */
function under(label: string, name: string): string {
  if (name === '.') return `${label}.`;
  return label.length + 1 + name.length < 250 ? `${label}.${name}` : `${label}.example.`;
}

/** A reply with every kind of record we emit, owned by the question's name (so compression points into it). */
function answerFor(qname: string): Reply {
  return new Reply({
    authoritative: true,
    answer: [
      rrs.a(qname, 5, '10.0.0.1'), rrs.aaaa(qname, 5, 'fd00::1'), rrs.cname(qname, 5, under('x', qname)),
      rrs.srv(qname, 5, 0, 100, 53, under('a', qname)), rrs.ptr(qname, 5, 'svc.cluster.local.'),
      rr(qname, Type.TXT, 5, rdata.txt('x'.repeat(300))),
    ],
    authority: [rr(qname, Type.SOA, 5, rdata.soa(under('ns.dns', qname), under('hostmaster', qname), 1, 7200, 1800, 86400, 5))],
    additional: [rrs.a(under('a', qname), 5, '10.0.0.2')],
  });
}

function checkAnswer(req: DnsRequest, out: Buffer, sent: Reply): DecodedMessage {
  assert.ok(out.length <= replyLimit(req, MAX_UDP), `reply of ${out.length} bytes over the limit ${replyLimit(req, MAX_UDP)}`);
  const m = decodeMessage(out);
  assert.equal(m.id, req.id);
  assert.equal(m.question.length, 1);
  assert.equal(m.question[0]!.name, req.qname);
  assert.equal(m.question[0]!.type, req.qtype);
  assert.ok(m.answer.length <= sent.answer.length);
  // A reply is never mistaken for a query (QR set): a reflected reply cannot start a loop.
  assert.equal(parseQuery(out), ParseOutcome.DROP);
  return m;
}

/**
 * The server's parse (a plain name matched in place, its text built later)
 * says what the eager parse says: the same outcome, the same name, the same
 * zones holding it.
 */
function lazyAgrees(data: Buffer, eager: ParsedQuestion | ParseOutcome): void {
  const lazy = parseQuery(data, undefined, true);
  if (typeof eager === 'number' || typeof lazy === 'number') { assert.equal(lazy, eager); return; }
  const req = new DnsRequest(data, lazy, 'udp', '127.0.0.1', 1, '127.0.0.1', 53, 0);
  const zones = ['.', 'example.', eager.qname, parentName(eager.qname), under('x', eager.qname)];
  for (const z of zones) assert.equal(req.under(z), isSubdomain(eager.qname, z), `under ${z}`);
  for (const z of zones) assert.equal(req.nameIs(z), eager.qname === z, `is ${z}`);
  assert.equal(req.qname, eager.qname);
}

function asQuery(data: Buffer): ParsedQuestion | null {
  const q = parseQuery(data);
  lazyAgrees(data, q);
  if (typeof q !== 'number') return q;
  if (q === ParseOutcome.DROP) return null;
  const rcode = q === ParseOutcome.FORMERR ? Rcode.FORMERR : q === ParseOutcome.NOTIMP ? Rcode.NOTIMP : Rcode.BADVERS;
  const out = writeErrorReply(data, rcode, q === ParseOutcome.BADVERS || hasSingleOpt(data), MAX_UDP);
  const m = decodeMessage(out);
  assert.equal(m.id, (data[0]! << 8) | data[1]!);
  assert.equal(m.rcode, rcode);
  return null;
}

export function fuzz(data: Buffer): void {
  const q = asQuery(data);
  if (q !== null) {
    const sent = answerFor(q.qname);
    for (const transport of TRANSPORTS) {
      const req = new DnsRequest(data, q, transport, '127.0.0.1', 5353, '127.0.0.1', 53, 0);
      const m = checkAnswer(req, writeReply(req, sent, { maxUdpSize: MAX_UDP }), sent);
      if (transport === 'tcp') assert.equal(m.answer.length, sent.answer.length, 'TCP answers are never cut');
    }
  }
  let upstream: DecodedMessage;
  try {
    upstream = decodeMessage(data);
  } catch (e) {
    if (e instanceof NameError) return; // the contract: forward turns it into a failed try
    throw e;
  }
  const q0 = upstream.question[0];
  if (q0 === undefined || q === null) return;
  // Relay it as forward does: the records written for the client decode to the records received.
  const relayed = replyFromMessage(upstream, 'forward');
  const req = new DnsRequest(data, q, 'tcp', '127.0.0.1', 5353, '127.0.0.1', 53, 0);
  const back = checkAnswer(req, writeReply(req, relayed, { maxUdpSize: MAX_UDP }), relayed);
  assert.deepEqual(back.answer, upstream.answer);
  assert.deepEqual(back.authority, upstream.authority);
}

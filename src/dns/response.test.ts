/**
 * @module dns/response.test
 * The writer on its own: header bits echoed, truncation rules (only lost
 * answer or authority records set TC), TTL ageing, our OPT, and error
 * replies for packets that never became a request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flag, Rcode, Type } from './constants.ts';
import { decodeMessage, encodeQuery } from './message.ts';
import { Reply } from './reply.ts';
import { DnsRequest, parseQuery, type ParsedQuestion } from './request.ts';
import { replyLimit, writeErrorReply, writeReply } from './response.ts';
import { rrs } from './rr.ts';

function request(name: string, opts: Parameters<typeof encodeQuery>[2] = {}, transport: 'udp' | 'tcp' = 'udp'): DnsRequest {
  const raw = encodeQuery(name, Type.A, { id: 99, ...opts });
  return new DnsRequest(raw, parseQuery(raw) as ParsedQuestion, transport, '127.0.0.1', 1, '127.0.0.1', 53, 0);
}

const many = (n: number, section: 'answer' | 'additional' | 'authority') =>
  new Reply({ [section]: Array.from({ length: n }, (_, i) => rrs.a('x.example.', 60, `10.0.${i >> 8}.${i & 255}`)) });

test('limits: 512 without EDNS, the client size capped by ours, 65535 over TCP', () => {
  assert.equal(replyLimit(request('x.example.'), 1232), 512);
  assert.equal(replyLimit(request('x.example.', { udpSize: 4096 }), 1232), 1232);
  assert.equal(replyLimit(request('x.example.', { udpSize: 800 }), 1232), 800);
  assert.equal(replyLimit(request('x.example.', { udpSize: 100 }), 1232), 512);
  assert.equal(replyLimit(request('x.example.', {}, 'tcp'), 1232), 65535);
});

test('header: ID, opcode, RD and CD echoed; AA from the reply; QR set', () => {
  const out = writeReply(request('x.example.', { rd: true, cd: true }), new Reply({ authoritative: true }), { maxUdpSize: 1232 });
  const m = decodeMessage(out);
  assert.equal(m.id, 99);
  assert.equal(m.flags & (Flag.QR | Flag.AA | Flag.RD | Flag.CD), Flag.QR | Flag.AA | Flag.RD | Flag.CD);
  assert.equal(m.flags & (Flag.TC | Flag.RA), 0);
});

test('answers cut: TC; additional records cut: no TC', () => {
  const cutAnswer = decodeMessage(writeReply(request('x.example.'), many(40, 'answer'), { maxUdpSize: 1232 }));
  assert.ok(cutAnswer.flags & Flag.TC);
  assert.equal(cutAnswer.answer.length, Math.floor((512 - 12 - 11 - 4) / 16));
  const cutAuthority = decodeMessage(writeReply(request('x.example.'), many(40, 'authority'), { maxUdpSize: 1232 }));
  assert.ok(cutAuthority.flags & Flag.TC);
  const cutExtra = decodeMessage(writeReply(request('x.example.'), many(40, 'additional'), { maxUdpSize: 1232 }));
  assert.equal(cutExtra.flags & Flag.TC, 0, 'RFC 2181 9: dropping additional data needs no TC');
  assert.equal(cutExtra.additional.length, Math.floor((512 - 12 - 11 - 4) / 16));
});

test('TTLs aged by the reply age, never below 0', () => {
  const reply = new Reply({ answer: [rrs.a('x.example.', 60, '10.0.0.1'), rrs.a('x.example.', 5, '10.0.0.2')] }).aged(10);
  const m = decodeMessage(writeReply(request('x.example.', { udpSize: 1232 }), reply, { maxUdpSize: 1232 }));
  assert.deepEqual(m.answer.map((r) => r.ttl), [50, 0]);
  assert.deepEqual(m.edns, { udpSize: 1232, version: 0, do: false });
});

test('our OPT carries our size, the DO bit and the upper rcode bits', () => {
  const m = decodeMessage(writeReply(request('x.example.', { udpSize: 4096, do: true }), Reply.error(Rcode.BADVERS), { maxUdpSize: 1400 }));
  assert.deepEqual(m.edns, { udpSize: 1400, version: 0, do: true });
  assert.equal(m.rcode, Rcode.BADVERS);
});

test('error replies: header echoed, question when readable, OPT for BADVERS', () => {
  const q = encodeQuery('x.example.', Type.A, { id: 7 });
  const formerr = decodeMessage(writeErrorReply(q, Rcode.FORMERR, false, 1232));
  assert.deepEqual([formerr.id, formerr.rcode, formerr.question.length, formerr.edns], [7, Rcode.FORMERR, 1, null]);
  const badvers = decodeMessage(writeErrorReply(q, Rcode.BADVERS, true, 1232));
  assert.deepEqual([badvers.rcode, badvers.edns?.version], [Rcode.BADVERS, 0]);
  const broken = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 0xff])]);
  assert.equal(decodeMessage(writeErrorReply(broken, Rcode.FORMERR, false, 1232)).question.length, 0);
});

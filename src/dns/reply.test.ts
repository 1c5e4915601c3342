/**
 * @module dns/reply.test
 * Packing replies: the bytes decode back to the same records, owner names
 * are compressed against the question and each other, names that no message
 * may carry are refused, and a label with a dot in it is never mistaken for
 * two labels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from './constants.ts';
import { decodeMessage } from './message.ts';
import { NameError } from './name.ts';
import { Reply, packSections } from './reply.ts';
import { DnsRequest } from './request.ts';
import { writeReply } from './response.ts';
import { rdata, rr, rrs } from './rr.ts';

function roundTrip(qname: string, reply: Reply) {
  const req = DnsRequest.synthetic(qname, Type.A, null, 'tcp');
  const out = writeReply(req, reply, { maxUdpSize: 1232 });
  return { bytes: out, msg: decodeMessage(out) };
}

test('records decode back as packed, in their sections', () => {
  const reply = new Reply({
    answer: [rrs.cname('www.example.org.', 60, 'web.example.org.'), rrs.a('web.example.org.', 30, '10.0.0.1')],
    authority: [rrs.ns('example.org.', 300, 'ns1.example.org.')],
    additional: [rrs.srv('_http._tcp.example.org.', 5, 0, 100, 80, 'web.example.org.'), rrs.txt('t.example.org.', 5, 'hello', '')],
  });
  const { msg } = roundTrip('www.example.org.', reply);
  const show = (rs: typeof msg.answer) => rs.map((r) => `${r.name} ${r.type} ${r.ttl} ${Buffer.from(r.data).toString('hex')}`);
  assert.deepEqual(show(msg.answer), show(reply.answer));
  assert.deepEqual(show(msg.authority), show(reply.authority));
  assert.deepEqual(show(msg.additional), show(reply.additional));
});

test('owner names are compressed against the question and earlier names', () => {
  const reply = new Reply({ answer: [rrs.a('www.example.org.', 5, '10.0.0.1'), rrs.a('mail.example.org.', 5, '10.0.0.2')] });
  const p = packSections(reply, 'www.example.org.');
  // First owner: a pointer to the question (offset 12). Second: "mail" + pointer to "example.org." inside the question (12 + 4).
  assert.deepEqual([...p.body.subarray(0, 2)], [0xc0, 12]);
  assert.deepEqual([...p.body.subarray(16, 23)], [4, ...Buffer.from('mail'), 0xc0, 16]);
  assert.equal(p.qnameWireLength, 17);
});

test('names in CNAME rdata serve as compression targets', () => {
  const reply = new Reply({ answer: [rrs.cname('a.example.', 5, 'target.other.'), rrs.a('target.other.', 5, '10.0.0.1')] });
  const { msg, bytes } = roundTrip('a.example.', reply);
  assert.equal(msg.answer[1]!.name, 'target.other.');
  assert.ok(bytes.length < 12 + 11 + 4 + (2 + 10 + 14) + (14 + 10 + 4), 'the second owner is a pointer');
});

test('a label containing a dot is not taken for two labels when compressing', () => {
  // rdata name "a.b" (one label) . example. ; owner "a.b.example." has three labels.
  const target = new Uint8Array([3, 0x61, 0x2e, 0x62, 7, ...Buffer.from('example'), 0]);
  const reply = new Reply({ answer: [rr('x.example.', Type.CNAME, 5, target), rrs.a('a.b.example.', 5, '10.0.0.1')] });
  const { msg } = roundTrip('x.example.', reply);
  assert.equal(msg.answer[0]!.type, Type.CNAME);
  assert.deepEqual([...msg.answer[0]!.data], [...target]);
  assert.equal(msg.answer[1]!.name, 'a.b.example.');
});

test('names no message may carry are refused', () => {
  const tooLongLabel = new Reply({ answer: [rrs.a(`${'x'.repeat(64)}.example.`, 5, '10.0.0.1')] });
  assert.throws(() => packSections(tooLongLabel, 'example.'), NameError);
  const l = 'y'.repeat(63);
  const tooLongName = new Reply({ additional: [rr(`_udp.${l}.${l}.${l}.${'z'.repeat(61)}.`, Type.SRV, 0, rdata.srv(0, 0, 1, '.'))] });
  assert.throws(() => packSections(tooLongName, 'example.'), NameError);
  const emptyLabel = new Reply({ answer: [rrs.a('a..example.', 5, '10.0.0.1')] });
  assert.throws(() => packSections(emptyLabel, 'example.'), NameError);
});

test('prepack keeps the bytes for its name; another name packs afresh', () => {
  const reply = new Reply({ answer: [rrs.a('svc.example.', 5, '10.0.0.1')] }).prepack('svc.example.');
  assert.equal(reply.packedFor('svc.example.'), reply.packedFor('svc.example.'));
  assert.notEqual(reply.packedFor('other.example.'), reply.packedFor('svc.example.'));
});

test('negativeInZone: one packed reply serves every name of the zone, the SOA owned by the zone', () => {
  const soa = rr('cluster.local.', Type.SOA, 5, rdata.soa('ns.dns.cluster.local.', 'hostmaster.cluster.local.', 1, 7200, 1800, 86400, 5));
  const nx = Reply.negativeInZone('cluster.local.', 3, soa, 'kubernetes');
  for (const qname of ['cluster.local.', 'x.cluster.local.', 'nginx.default.svc.cluster.local.', `${'a'.repeat(63)}.b.c.svc.cluster.local.`]) {
    const before = nx.packedFor(qname);
    const { msg } = roundTrip(qname, nx);
    assert.equal(msg.rcode, 3, qname);
    assert.deepEqual(msg.question.map((q) => q.name), [qname]);
    assert.deepEqual(msg.authority.map((r) => [r.name, r.type, Buffer.from(r.data).toString('hex')]),
      [['cluster.local.', Type.SOA, Buffer.from(soa.data).toString('hex')]], qname);
    assert.equal(nx.packedFor(qname), before, 'nothing packed per name');
  }
  // Handed to a request for a name outside the zone (rewrite does that): packed for that name, still right.
  const outside = roundTrip('foo.example.', nx).msg;
  assert.deepEqual(outside.authority.map((r) => r.name), ['cluster.local.']);
  assert.throws(() => Reply.negativeInZone('other.zone.', 3, soa, 'kubernetes'), /owned by the zone/);
});
